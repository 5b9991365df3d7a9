"""Creating, reading and revoking API keys: `sak_<prefix>_<secret>`.

The secret has 256 bits of randomness, so a plain SHA-256 of it is as good as a slow
password hash against guessing, and costs microseconds per request instead of the
hundreds of milliseconds a password hasher takes.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from secalerts.accounts.models import ApiKey
from secalerts.audit.services import SYSTEM, Actor, actor_of_user, record, snapshot
from secalerts.core.errors import InvalidInput, NotFoundError

KEY_START = "sak_"
PREFIX_LENGTH = 8  # hex digits
SCOPES = frozenset({"ingest"})
MAX_LIFETIME = timedelta(days=3650)
# What the audit trail keeps of a key (never its secret's hash).
AUDITED_FIELDS = ("name", "prefix", "scopes", "source", "expires_at", "revoked_at")


@dataclass(frozen=True, slots=True)
class PresentedKey:
    prefix: str
    secret: str


def is_api_key(credential: str) -> bool:
    return credential.startswith(KEY_START)


def read_key(credential: str) -> PresentedKey | None:
    """The parts of a key as presented, or None when it cannot be one of ours."""
    prefix = credential[len(KEY_START) : len(KEY_START) + PREFIX_LENGTH]
    rest = credential[len(KEY_START) + PREFIX_LENGTH :]
    if len(prefix) != PREFIX_LENGTH or not rest.startswith("_") or len(rest) < 2:
        return None
    return PresentedKey(prefix=prefix, secret=rest[1:])


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    *,
    name: str,
    scopes: list[str],
    created_by: User | None,
    source: str = "",
    expires_at: datetime | None = None,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its full text, which is never stored and never shown again. The
    audit trail names `actor`, else `created_by`."""
    if not name.strip():
        raise InvalidInput("Invalid API key.", detail={"name": ["This field is required."]})
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise InvalidInput(
            "Invalid API key.",
            detail={"scopes": [f"Choose from: {', '.join(sorted(SCOPES))}."]},
        )
    now = timezone.now()
    if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
        raise InvalidInput(
            "Invalid API key.",
            detail={"expires_at": ["Must lie in the future, at most 10 years ahead."]},
        )
    secret = secrets.token_urlsafe(32)
    while True:  # a prefix is 32 bits: a clash is rare, but possible
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            prefix=prefix,
            secret_hash=secret_hash(secret),
            scopes=sorted(set(scopes)),
            source=source,
            created_by=created_by,
            expires_at=expires_at,
        )
        who = actor or (actor_of_user(created_by) if created_by is not None else SYSTEM)
        record(actor=who, action="created", target=key, after=snapshot(key, AUDITED_FIELDS))
    return key, f"{KEY_START}{prefix}_{secret}"


@transaction.atomic
def revoke_key(*, key_id: int, actor: Actor = SYSTEM) -> ApiKey:
    """Refused by every worker from the next request: keys are checked on every use."""
    key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
    if key is None:
        raise NotFoundError("No API key with this id.")
    if key.revoked_at is None:
        before = snapshot(key, AUDITED_FIELDS)
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        after = snapshot(key, AUDITED_FIELDS)
        record(actor=actor, action="revoked", target=key, before=before, after=after)
    return key
