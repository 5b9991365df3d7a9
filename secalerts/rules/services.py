"""Rule writes: validated, saved, audited, and announced to every worker through the
version stamp."""

from typing import Any

from django.db import transaction

from secalerts.audit.services import SYSTEM, Actor, record, snapshot
from secalerts.core.errors import ConflictError
from secalerts.rules import registry
from secalerts.rules.models import Rule

# What the audit trail keeps of a rule before and after a change.
AUDITED_FIELDS = ("name", "description", "enabled", "severity", "condition", "group_by",
                  "threshold", "dedup_window_seconds", "correlation", "generate")  # fmt: skip


@transaction.atomic
def save_rule(*, rule: Rule, actor: Actor = SYSTEM) -> Rule:
    before = _stored_snapshot(rule)
    rule.full_clean()  # compiles the condition: a bad rule never reaches ingestion
    rule.save()
    registry.bump_version()
    after = snapshot(rule, AUDITED_FIELDS)
    record(actor=actor, action=_action(before, after), target=rule, before=before, after=after)
    return rule


def create_rule(*, actor: Actor = SYSTEM, **fields: Any) -> Rule:
    return save_rule(rule=Rule(**fields), actor=actor)


def update_rule(*, rule: Rule, actor: Actor = SYSTEM, **changes: Any) -> Rule:
    for name, value in changes.items():
        setattr(rule, name, value)
    return save_rule(rule=rule, actor=actor)


@transaction.atomic
def delete_rule(*, rule: Rule, actor: Actor = SYSTEM) -> None:
    """Raises ConflictError while a correlation rule references it."""
    check_unreferenced(rule_ids={rule.pk})
    before = snapshot(rule, AUDITED_FIELDS)
    record(actor=actor, action="deleted", target=rule, before=before)
    rule.delete()
    registry.bump_version()


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


def _stored_snapshot(rule: Rule) -> dict[str, Any] | None:
    """The rule as stored before this change (None for a new rule): the instance in hand
    may hold the change already (the admin's form sets it before save_model)."""
    if rule.pk is None:
        return None
    stored = Rule.objects.filter(pk=rule.pk).first()
    return snapshot(stored, AUDITED_FIELDS) if stored is not None else None


def _action(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    if before is None:
        return "created"
    if before["enabled"] != after["enabled"] and {
        k: v for k, v in before.items() if k != "enabled"
    } == {k: v for k, v in after.items() if k != "enabled"}:
        return "enabled" if after["enabled"] else "disabled"
    return "updated"
