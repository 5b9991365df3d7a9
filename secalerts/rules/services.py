"""Rule writes: validated, saved, and announced to every worker through the version stamp."""

from typing import Any

from django.db import transaction

from secalerts.core.errors import ConflictError
from secalerts.rules import registry
from secalerts.rules.models import Rule


@transaction.atomic
def save_rule(*, rule: Rule) -> Rule:
    rule.full_clean()  # compiles the condition: a bad rule never reaches ingestion
    rule.save()
    registry.bump_version()
    return rule


def create_rule(**fields: Any) -> Rule:
    return save_rule(rule=Rule(**fields))


def update_rule(*, rule: Rule, **changes: Any) -> Rule:
    for name, value in changes.items():
        setattr(rule, name, value)
    return save_rule(rule=rule)


@transaction.atomic
def delete_rule(*, rule: Rule) -> None:
    """Raises ConflictError while a correlation rule references it."""
    check_unreferenced(rule_ids={rule.pk})
    rule.delete()


def check_unreferenced(*, rule_ids: set[int]) -> None:
    """Raises ConflictError if a correlation rule not among `rule_ids` references one of them."""
    users = [
        other.name
        for other in Rule.objects.filter(correlation__isnull=False).exclude(pk__in=rule_ids)
        if rule_ids & set((other.correlation or {}).get("rules", []))
    ]
    if users:
        raise ConflictError(
            f"referenced by correlation rules: {', '.join(sorted(users))}; "
            "change or delete those first"
        )
    registry.bump_version()
