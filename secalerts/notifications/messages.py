"""What each kind of channel receives: the webhook's signed JSON, Slack's message, the
email. Pure functions of the message type, the alert payload and the delivery id."""

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_HEADER = "X-Signature-256"


def webhook_body(kind: str, alert: dict[str, Any] | None, delivery_id: str) -> bytes:
    body = {"type": kind, "alert": alert, "delivery_id": delivery_id}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`, as GitHub signs webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headline(kind: str, alert: dict[str, Any] | None) -> str:
    if alert is None:
        return "Test notification from secalerts: this channel works."
    verb = "New" if kind == "alert.created" else "Updated"
    return f"{verb} {alert['severity']} alert #{alert['id']}: {alert['title']}"


def _facts(alert: dict[str, Any]) -> list[tuple[str, str]]:
    rule = alert.get("rule") or {}
    return [
        ("Severity", str(alert["severity"])),
        ("Status", str(alert["status"])),
        ("Rule", str(rule.get("name", "-"))),
        ("Source IP", str(alert.get("source_ip") or "-")),
        ("Events", str(alert.get("event_count", 0))),
        ("Last seen", str(alert.get("last_seen") or "-")),
    ]


def slack_body(kind: str, alert: dict[str, Any] | None, delivery_id: str) -> bytes:
    """An incoming-webhook message: `text` for notifications and old clients, blocks
    for the channel."""
    text = headline(kind, alert)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
    ]
    if alert is not None:
        if alert.get("description"):
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": alert["description"][:2900]}}
            )
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{value}"}
                    for name, value in _facts(alert)
                ],
            }
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"delivery {delivery_id}"}]}
    )
    return json.dumps({"text": text, "blocks": blocks}, separators=(",", ":")).encode()


def email_subject_and_text(
    kind: str, alert: dict[str, Any] | None, delivery_id: str
) -> tuple[str, str]:
    subject = f"[secalerts] {headline(kind, alert)}"[:200]
    lines = [headline(kind, alert), ""]
    if alert is not None:
        if alert.get("description"):
            lines += [alert["description"], ""]
        lines += [f"{name}: {value}" for name, value in _facts(alert)]
        lines.append("")
    lines.append(f"Delivery id: {delivery_id}")
    return subject, "\n".join(lines) + "\n"
