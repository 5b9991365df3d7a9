"""The status workflow, as a table. Pure, no database."""

import pytest

from secalerts.alerts.transitions import check_transition
from secalerts.core.errors import InvalidTransition

ALLOWED = {
    ("open", "acknowledged"),
    ("open", "resolved"),
    ("open", "false_positive"),
    ("acknowledged", "resolved"),
    ("acknowledged", "false_positive"),
    ("resolved", "open"),
    ("false_positive", "open"),
}
STATUSES = ["open", "acknowledged", "resolved", "false_positive"]


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_transition_table(old, new):
    if (old, new) in ALLOWED:
        check_transition(old, new)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(old, new)
