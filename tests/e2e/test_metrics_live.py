"""GET /metrics from a real `manage.py serve`: sums its workers' and syslog listener's counts
exactly, keeps a killed worker's counts and drops its live gauges; METRICS_TOKEN on a real
socket; /readyz 503 while Redis or PostgreSQL is down, /livez 200 regardless."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from urllib.error import HTTPError

import pytest
from django.conf import settings
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.e2e import conftest as e2e
from tests.e2e.test_database_restart import BIN, Cluster
from tests.e2e.test_redis_outage import REDIS_SERVER, start_redis
from tests.waiting import wait_for_exit, wait_until

TOKEN = "scrape-token-for-the-e2e-test"
GOOD = {"event_type": "vpn.login_failed", "source": "vpn", "source_ip": "192.0.2.60"}
INGESTED = "secalerts_events_ingested_total"
SERVE = [sys.executable, "manage.py", "serve"]
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def scrape(base: str, token: str | None = TOKEN) -> dict:
    request = urllib.request.Request(f"{base}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=15) as response:
        return samples(response.read().decode())


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counted(found: dict) -> dict[tuple[str, str], float]:
    """Events ingested by (path, result), leaving out the series still at 0."""
    return {
        (dict(labels)["path"], dict(labels)["result"]): value
        for (name, labels), value in found.items()
        if name == INGESTED and value
    }


def status_of(base: str, path: str, token: str | None = None) -> tuple[int, dict | None]:
    request = urllib.request.Request(f"{base}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            body = response.read()
            status = response.status
    except HTTPError as error:
        body, status = error.read(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def post(base: str, path: str, body: bytes, header: str, content_type: str) -> int:
    request = urllib.request.Request(
        f"{base}{path}",
        data=body,
        method="POST",
        headers={"Authorization": header, "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except HTTPError as error:
        return error.code


def events(count: int) -> list[dict]:
    return [GOOD | {"id": str(uuid.uuid4())} for _ in range(count)]


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # the listener closes once it has read everything


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def daphne_workers(pid: int) -> list[int]:
    """The Daphne workers of `serve` (not its syslog listener, nor a dead worker not yet reaped)."""
    workers = []
    for child in children(pid):
        try:
            if b"/daphne\0" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            pass
    return workers


def metrics_dir(pid: int) -> str:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = [v for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return found[0].split(b"=", 1)[1].decode()


def of_process(directory: str, kind: str, pid: int) -> dict:
    """What one process wrote to the shared directory (its own file, merged alone)."""
    path = Path(directory) / f"{kind}_{pid}.db"
    if not path.exists():
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in multiprocess.MultiProcessCollector.merge([str(path)])
        for sample in metric.samples
    }


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.requires_redis)])
def test_serve_metrics_sum_every_process_exactly_and_survive_a_killed_worker(
    transactional_db, analyst_user, bearer, workers
):
    port, syslog_port = e2e.free_port(), e2e.free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": e2e.test_database_url(),
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": TOKEN,
        "SYSLOG_BIND": f"127.0.0.1:{syslog_port}",
    }
    server = subprocess.Popen(
        [*SERVE, "--port", str(port), "--workers", str(workers), "--no-scheduler"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base, header = f"http://127.0.0.1:{port}", bearer(analyst_user)
    try:
        e2e.wait_for_port(port, server)
        e2e.wait_for_port(syslog_port, server)
        pids = daphne_workers(server.pid)
        assert len(pids) == workers
        directory = metrics_dir(pids[0])
        assert status_of(base, "/metrics")[0] == 401
        # Each request on a new connection: the kernel spreads them over the workers.
        sent = {("http", "accepted"): 0, ("http", "duplicate"): 0, ("http", "rejected"): 0}
        for round_ in range(12):
            batch = events(3)
            body = json.dumps(batch).encode()
            assert post(base, "/api/events/", body, header, "application/json") == 201
            assert post(base, "/api/events/", body, header, "application/json") == 201
            bad = json.dumps([*events(1), {"event_type": "no source"}]).encode()
            assert post(base, "/api/events/", bad, header, "application/json") == 400
            sent[("http", "accepted")] += 3
            sent[("http", "duplicate")] += 3
            sent[("http", "rejected")] += 2
            lines = f"sshd[9]: round {round_} {uuid.uuid4()}\nsshd[9]: second line\n".encode()
            assert post(base, "/api/intake/syslog/", lines, header, "text/plain") == 201
        sent[("intake", "accepted")] = 24
        send_tcp(syslog_port, b"".join(f"sshd[7]: line {n}\n".encode() for n in range(10)))
        sent[("syslog", "accepted")] = 10

        wait_until(
            lambda: counted(scrape(base)).get(("syslog", "accepted")) == 10, 30, "syslog counts"
        )
        # Any worker answers the scrape, each with the same sums.
        scrapes = [counted(scrape(base)) for _ in range(6)]
        assert all(found == {key: float(n) for key, n in sent.items()} for found in scrapes)
        if workers == 2:
            per_worker = [of_process(directory, "counter", pid) for pid in pids]
            assert all(
                value(found, INGESTED, path="http", result="accepted") > 0 for found in per_worker
            ), "every worker served some of the requests"

        # A stream client, then its worker is killed: counts stay, the client is not live.
        async def stream_then_kill() -> int:
            url = f"ws://127.0.0.1:{port}/ws/alerts/?token={header.removeprefix('Bearer ')}"
            async with connect(url) as websocket:
                await websocket.send(json.dumps({"type": "ping"}))
                await asyncio.wait_for(websocket.recv(), timeout=10)
                assert value(scrape(base), "secalerts_stream_clients") == 1
                holder = next(
                    pid
                    for pid in pids
                    if value(
                        of_process(directory, "gauge_livesum", pid), "secalerts_stream_clients"
                    )
                )
                os.kill(holder, signal.SIGKILL)
                return holder

        killed = asyncio.run(stream_then_kill())
        wait_for_exit(killed, 20)
        wait_until(
            lambda: (
                len(daphne_workers(server.pid)) == workers
                and killed not in daphne_workers(server.pid)
            ),
            30,
            "a replacement worker",
        )
        e2e.wait_for_answer(base)
        after = scrape(base)

        assert counted(after) == {key: float(n) for key, n in sent.items()}
        assert value(after, "secalerts_stream_clients") == 0
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not Path(directory).exists(), "serve removes its run's metrics directory"
    finally:
        if server.poll() is None:
            server.kill()


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_one_daphne_without_serve_counts_in_its_own_memory(start_daphne, analyst_user, bearer):
    base = start_daphne(METRICS_TOKEN=TOKEN)
    header = bearer(analyst_user)
    body = json.dumps(events(5)).encode()

    statuses = [post(base, "/api/events/", body, header, "application/json") for _ in range(2)]
    found = counted(scrape(base))

    assert statuses == [201, 201]
    assert found[("http", "accepted")] == 5
    assert found[("http", "duplicate")] == 5
    assert status_of(base, "/metrics", token="wrong")[0] == 401


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
def test_readyz_is_503_while_redis_is_down_and_livez_stays_200(start_daphne):
    redis_port = e2e.free_port()
    redis = start_redis(redis_port)
    try:
        base = start_daphne(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
        assert status_of(base, "/readyz") == (
            200,
            {"status": "ok", "database": "ok", "channel_layer": "ok"},
        )

        redis.terminate()
        redis.wait(timeout=10)

        assert status_of(base, "/readyz") == (
            503,
            {"status": "unavailable", "database": "ok", "channel_layer": "unavailable"},
        )
        assert status_of(base, "/livez") == (200, {"status": "ok"})
    finally:
        if redis.poll() is None:
            redis.kill()


@pytest.mark.requires_postgres
@pytest.mark.skipif(not BIN or os.geteuid() != 0, reason="needs PostgreSQL binaries and root")
def test_readyz_is_503_while_postgres_is_down_and_livez_stays_200():
    cluster = Cluster()
    server = None
    try:
        cluster.pg_ctl("start")
        port = e2e.free_port()
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
            "DATABASE_URL": cluster.url(),
            "LOG_LEVEL": "CRITICAL",
        }
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [DAPHNE, "-p", str(port), "security_backend.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        e2e.wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        assert status_of(base, "/readyz")[0] == 200

        cluster.pg_ctl("stop")

        assert status_of(base, "/readyz") == (
            503,
            {"status": "unavailable", "database": "unavailable", "channel_layer": "ok"},
        )
        assert status_of(base, "/livez") == (200, {"status": "ok"})
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        cluster.remove()


@pytest.mark.parametrize("token", [None, TOKEN])
def test_production_serves_the_probes_and_metrics_over_plain_http(start_daphne, token):
    key = "m" * 30 + "-production-secret-key-for-metrics-tests-0123"
    extra = {"METRICS_TOKEN": token} if token else {}
    base = start_daphne(DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="127.0.0.1", **extra)

    # Not redirected to HTTPS: Prometheus and probes reach it inside the network.
    probes = [status_of(base, path)[0] for path in ("/livez", "/readyz")]
    anonymous = status_of(base, "/metrics")[0]
    with_token = status_of(base, "/metrics", token=token)[0]

    assert probes == [200, 200]
    assert (anonymous, with_token) == ((401, 200) if token else (200, 200))
