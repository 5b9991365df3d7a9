"""Which of our modules one single-event POST /api/events/ passes through, and the hops
between them: the count docs/architecture.md gives, measured rather than read.

Runs the ASGI application in-process on a throwaway SQLite database, posts one event as
a warm-up (rule set loaded, caches filled), then traces a second one: every call into a
`secalerts` function is recorded with the nearest `secalerts` function above it on the
stack (in any thread: the write runs in a worker thread). A hop is a call from one of our
modules into another; prints the modules, the distinct hops and the hops made in all.

    .venv/bin/python bench/ingest_path.py [--edges] [--database sqlite|postgres]
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import uuid
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _module_of(frame: FrameType | None) -> str | None:
    """The secalerts module of the nearest frame of ours, walking up from `frame`."""
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("secalerts.") and ".tests" not in name:
            return name
        frame = frame.f_back
    return None


class Tracer:
    def __init__(self) -> None:
        self.modules: set[str] = set()
        self.hops: Counter[tuple[str, str]] = Counter()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith("secalerts.") or frame.f_code.co_name == "<module>":
            return
        self.modules.add(callee)
        caller = _module_of(frame.f_back)
        if caller is not None and caller != callee:
            self.hops[(caller, callee)] += 1


async def _post(app: Any, token: str) -> int:
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "timestamp": "2026-01-01T00:00:00Z",
            "source": "sshd",
            "event_type": "auth.failure",
            "severity": "high",
            "source_ip": "203.0.113.7",
            "data": {"user": "root"},
        }
    ).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/events/",
        "scheme": "http",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ],
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edges", action="store_true", help="list every hop and its count")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite", help="a fresh one"
    )
    args = parser.parse_args()
    if args.database == "postgres":
        from bench.server import reset_database

        url = reset_database("postgres", "bench_ingest_path")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='ingest-path-')}/db.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="security_backend.settings", DATABASE_URL=url, LOG_LEVEL="ERROR"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    call_command("migrate", verbosity=0)
    call_command("create_demo_users", verbosity=0)
    token = str(AccessToken.for_user(get_user_model().objects.get(username="admin")))

    from security_backend.asgi import application

    loop = asyncio.new_event_loop()
    assert loop.run_until_complete(_post(application, token)) == 201
    tracer = Tracer()
    threading.setprofile_all_threads(tracer)
    sys.setprofile(tracer)
    try:
        status = loop.run_until_complete(_post(application, token))
    finally:
        sys.setprofile(None)
        threading.setprofile_all_threads(None)
    assert status == 201, status

    print(f"modules: {len(tracer.modules)}")
    print(f"distinct hops: {len(tracer.hops)}")
    print(f"hops made: {sum(tracer.hops.values())}")
    for name in sorted(tracer.modules):
        print(f"  {name}")
    if args.edges:
        for (caller, callee), count in sorted(tracer.hops.items()):
            print(f"  {caller} -> {callee} x{count}")


if __name__ == "__main__":
    main()
