"""Benchmark plumbing: a fresh database, a real Daphne server, its memory, a lean HTTP client."""

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))
BENCH_SECRET_KEY = secrets.token_urlsafe(50)
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def database_url(kind: str, name: str) -> str:
    if kind == "sqlite":
        (ROOT / "var").mkdir(exist_ok=True)
        return f"sqlite:///{ROOT / 'var' / f'{name}.sqlite3'}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def reset_database(kind: str, name: str) -> str:
    """Drop and recreate the benchmark database, then migrate it. Returns its URL."""
    url = database_url(kind, name)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    manage(url, "migrate", "--noinput", "-v0")
    return url


def server_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return (
        env
        | {
            # Production settings (DEBUG off: no per-query debug recording), plain HTTP.
            "DJANGO_SETTINGS_MODULE": "security_backend.settings",
            "DATABASE_URL": url,
            "DEBUG": "false",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_USER_RATE": "",
        }
        | extra
    )


def manage(url: str, *args: str, stdin: str | None = None, **env: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=server_env(url, **env),
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def rss_mib(self) -> float:
        """Resident memory of the server: the Daphne process, or all workers of `serve`."""
        pids = [self.process.pid, *_children(self.process.pid)]
        return sum(_rss_kib(pid) for pid in pids) / 1024


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _rss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)


@contextlib.contextmanager
def daphne(
    url: str,
    workers: int = 1,
    log: Path | None = None,
    root: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """One Daphne process, or `manage.py serve` with several Daphne workers on one port.
    The server's log (stderr) goes to `log` if given, else nowhere. `root`: the checkout
    whose code it serves (another one: a baseline beside this code). `env`: settings
    besides the database's (server_env)."""
    port = free_port()
    command = [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "security_backend.asgi:application"]
    if workers > 1:
        command = [PYTHON, "manage.py", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        cwd=root,
        env=server_env(url, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb") if log else subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.05)
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Connection:
    """A keep-alive HTTP/1.1 connection that costs the client almost nothing per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def token(port: int, username: str, password: str) -> str:
    conn = await Connection(port).open()
    body = json.dumps({"username": username, "password": password}).encode()
    status, answer = await conn.request(
        "POST", "/api/token/", body, {"Content-Type": "application/json"}
    )
    conn.close()
    if status != 200:
        raise RuntimeError(f"login failed: {status} {answer[:200]!r}")
    return json.loads(answer)["access"]


def machine_speed() -> str:
    """A fixed pure-Python loop's time, best of three. This shared machine's speed swings
    (such a loop has taken twice as long a minute later), so runs are read with it."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(1_000_000):
            total += number * number % 7
        best = min(best, time.perf_counter() - started)
    return f"machine speed: a fixed Python loop took {1000 * best:.0f} ms (lower is faster)"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class StreamListener(asyncio.Protocol):
    """A WebSocket client that only listens, for measuring delivery to many clients.

    One benchmark process holds a thousand of these: a full client library's per-message
    work (frame objects, queues, task wake-ups) would be counted as delivery time. This
    one parses server frames in `data_received`, stamps their arrival there, and answers
    pings so the server keeps it.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.opened = asyncio.get_running_loop().create_future()
        self.expected: dict[bytes, asyncio.Future[float]] = {}
        self.transport: asyncio.Transport

    @classmethod
    async def connect(cls, port: int, path: str) -> "StreamListener":
        loop = asyncio.get_running_loop()
        _, listener = await loop.create_connection(cls, "127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        listener.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await asyncio.wait_for(listener.opened, 10)
        return listener

    def expect(self, marker: str) -> "asyncio.Future[float]":
        """The arrival time (perf_counter) of the next text message containing `marker`."""
        future = asyncio.get_running_loop().create_future()
        self.expected[marker.encode()] = future
        return future

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):  # a TCP connection's always is
            raise TypeError(f"a stream transport expected, not {transport!r}")
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        self.buffer += data
        if not self.opened.done():
            head, found, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            if not found:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(head.split(b"\r\n")[0].decode()))
                return
            self.buffer = bytearray(rest)
            self.opened.set_result(None)
        while (frame := self._next_frame()) is not None:
            opcode, payload = frame
            if opcode == 0x9:  # ping: a masked pong with the same payload
                self._send(0xA, payload)
            elif opcode in (0x0, 0x1):
                for marker, future in list(self.expected.items()):
                    if marker in payload and not future.done():
                        future.set_result(arrived)
                        del self.expected[marker]

    def _next_frame(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        length, offset = buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, offset = int.from_bytes(buffer[2:4]), 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, offset = int.from_bytes(buffer[2:10]), 10
        if len(buffer) < offset + length:
            return None
        opcode, payload = buffer[0] & 0x0F, bytes(buffer[offset : offset + length])
        del buffer[: offset + length]
        return opcode, payload

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        self._send(0x8, (1000).to_bytes(2))
        self.transport.close()
