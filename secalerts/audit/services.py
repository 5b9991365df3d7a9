"""Writing the audit trail: call `record` inside the transaction of the change it tells."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from secalerts.audit.models import AuditEntry


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a person, an API key, or the system (a command, a migration)."""

    kind: str  # "user", "api_key" or "system"
    name: str
    user_id: int | None = None


SYSTEM = Actor(kind="system", name="system")


def actor_of_user(user: Any) -> Actor:
    """A signed-in Django user (the admin site) as an actor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    return Actor(kind="user", name=user.get_username(), user_id=user.pk)


def snapshot(instance: models.Model, fields: Sequence[str]) -> dict[str, Any]:
    """The named fields of a model instance as JSON values (times as ISO text, related
    objects as their id)."""
    values = {}
    for name in fields:
        value = getattr(instance, name)
        values[name] = value.pk if isinstance(value, models.Model) else value
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def record(
    *,
    actor: Actor,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the change's transaction, so an entry exists if
    and only if its change was committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change")
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor_kind=actor.kind,
        actor=actor.name[:255],
        actor_user_id=actor.user_id,
        action=action,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        before=before,
        after=after,
    )
