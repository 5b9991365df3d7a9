"""Server memory with stream clients that never read, through a real Daphne.

    .venv/bin/python bench/stream_memory.py [--clients 20] [--pushes 30000]
                                            [--database sqlite|postgres]

Raises `--pushes` alerts through POST /api/events/ (one rule, grouped by source, every
event a new source) while one client reads them, to warm the server up; then connects
`--clients` WebSocket clients that complete the handshake and never read again (a small
receive buffer, so their TCP window fills at once) and raises as many again. Prints the
server's RSS after the first round (start), its peak, after the pushes, and after the
stalled clients have closed; how many of those the server closed itself before they
closed (with 4408, counted from its log; or otherwise, e.g. Autobahn's ping timeout);
and how many pushes the reading client got.
"""

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import ROOT, Connection, daphne, machine_speed, manage, reset_database, token

PASSWORD = "bench-password-not-secret-1234"
BATCH = 1000
# Only this rule: a shipped one also matches malware, and would double the pushes.
RULE_SCRIPT = """
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule
Rule.objects.all().delete()
create_rule(name="Malware", severity="critical", group_by=["source"],
            condition={"field": "event_type", "op": "eq", "value": "malware.detected"})
"""
TCP_ESTABLISHED = 1


def stalled_client(port: int, access: str) -> socket.socket:
    """A stream client that completes the handshake and then never reads."""
    sock = socket.socket()
    # Set before connecting, so the window the client advertises stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /ws/alerts/?token={access} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    if sock.recv(12) != b"HTTP/1.1 101":
        raise RuntimeError("handshake refused")
    return sock


def ended_by_server(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != TCP_ESTABLISHED


async def main(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect

    print(machine_speed())
    url = reset_database(args.database, "bench_stream_memory")
    manage(
        url, "create_user", "bench", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    manage(url, "shell", "-c", RULE_SCRIPT)
    sources = iter(range(10**9))

    def bodies() -> list[bytes]:
        batches = [
            range(start, min(start + BATCH, args.pushes)) for start in range(0, args.pushes, BATCH)
        ]
        return [
            json.dumps(
                [
                    {"event_type": "malware.detected", "source": f"edr-{next(sources)}"}
                    for _ in batch
                ]
            ).encode()
            for batch in batches
        ]

    log = ROOT / "var" / "bench_stream_memory.log"
    with daphne(url, log=log) as server:
        access = await token(server.port, "bench", PASSWORD)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
        stream_url = f"ws://127.0.0.1:{server.port}/ws/alerts/?token={access}"

        async def push_all() -> tuple[float, int]:
            """Raises `--pushes` alerts while a client reads them: (ingest seconds, received)."""
            received = 0
            async with connect(stream_url) as reader:
                await reader.send('{"type": "ping"}')
                await reader.recv()

                async def read_pushes() -> None:
                    nonlocal received
                    while received < args.pushes:
                        await asyncio.wait_for(reader.recv(), timeout=30)
                        received += 1

                reading = asyncio.create_task(read_pushes())
                conn = await Connection(server.port).open()
                started = time.perf_counter()
                for body in bodies():
                    status, answer = await conn.request("POST", "/api/events/", body, headers)
                    if status != 201:
                        raise RuntimeError(f"ingest answered {status}: {answer[:200]!r}")
                seconds = time.perf_counter() - started
                conn.close()
                with contextlib.suppress(TimeoutError):
                    await reading
            return seconds, received

        # Ingestion alone grows the server (caches, the SQLite page cache) by as much as
        # the stalled clients ever did: a first round without them, then the start figure.
        boot_rss = server.rss_mib()
        warmup_seconds, _ = await push_all()
        await asyncio.sleep(2)
        start_rss = server.rss_mib()
        peak_rss = start_rss
        sampling = True

        async def sample() -> None:
            nonlocal peak_rss
            while sampling:
                peak_rss = max(peak_rss, server.rss_mib())
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        stalled = [
            await asyncio.to_thread(stalled_client, server.port, access)
            for _ in range(args.clients)
        ]
        ingest_seconds, received = await push_all()
        await asyncio.sleep(2)
        after_pushes_rss = server.rss_mib()
        ended = sum(ended_by_server(sock) for sock in stalled)
        for sock in stalled:
            sock.close()
        await asyncio.sleep(5)  # the server notices, and Daphne reaps the connections
        sampling = False
        await sampler
        end_rss = server.rss_mib()

    print(
        f"{args.clients} stalled clients, {args.pushes:,} pushes in batches of {BATCH},"
        f" {args.database}"
    )
    print(
        f"  ingest: {warmup_seconds:.1f} s without stalled clients, {ingest_seconds:.1f} s with;"
        f" the reading client received {received:,} pushes"
    )
    too_slow = log.read_text().count("closed a client that stopped reading")
    print(
        f"  stalled clients closed by the server: {too_slow} of {args.clients} with 4408,"
        f" {ended} of {args.clients} in all"
    )
    print(
        f"  server RSS MiB: at boot {boot_rss:.0f}, after a first round without stalled"
        f" clients (start) {start_rss:.0f}, peak {peak_rss:.0f},"
        f" after the pushes {after_pushes_rss:.0f}, after the stalled clients closed"
        f" {end_rss:.0f} ({100 * (end_rss - start_rss) / start_rss:+.0f}% of start)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pushes", type=int, default=30_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    asyncio.run(main(parser.parse_args()))
