"""The alert status workflow as data: which status may follow which. Pure, no Django."""

from secalerts.core.errors import InvalidTransition

OPEN, ACKNOWLEDGED, RESOLVED, FALSE_POSITIVE = "open", "acknowledged", "resolved", "false_positive"

ALLOWED: dict[str, frozenset[str]] = {
    OPEN: frozenset({ACKNOWLEDGED, RESOLVED, FALSE_POSITIVE}),
    ACKNOWLEDGED: frozenset({RESOLVED, FALSE_POSITIVE}),
    RESOLVED: frozenset({OPEN}),  # reopen
    FALSE_POSITIVE: frozenset({OPEN}),
}


def check_transition(old: str, new: str) -> None:
    """Raise InvalidTransition unless the workflow allows old -> new."""
    if new not in ALLOWED.get(old, frozenset()):
        allowed = ", ".join(sorted(ALLOWED.get(old, ()))) or "none"
        raise InvalidTransition(
            f"Cannot change status from {old!r} to {new!r} (allowed: {allowed}).",
            detail={"status": [f"{old} -> {new} is not allowed"]},
        )
