"""`manage.py syslog` in a subprocess, fed by real senders: util-linux logger, rsyslog
(imfile -> omfwd, octet-counted TCP), a flooding TCP client; and started by `serve`."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from secalerts.events.models import Event
from tests.e2e import conftest as e2e
from tests.test_dataset_replays import OPENSSH_RULES, alerted_keys, create_rule_from, load
from tests.waiting import wait_for_exit, wait_until

LOGGER = "/usr/bin/logger"
# RSYSLOGD and RSYSLOG_MODULES may name an unpacked copy (dpkg -x): the rsyslog and
# syslog-ng packages conflict, and only one of them can be installed.
RSYSLOGD = os.environ.get("RSYSLOGD") or shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
RSYSLOG_MODULES = os.environ.get("RSYSLOG_MODULES")
SYSLOG_NG = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"


@dataclass
class Syslog:
    port: int
    process: subprocess.Popen
    log: Path

    def counters(self) -> list[dict]:
        lines = self.log.read_text(errors="replace").splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return [r for r in records if r.get("message") == "syslog counters"]


@pytest.fixture
def start_syslog(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., Syslog]]:
    processes: list[subprocess.Popen] = []

    def start(**extra_env: str) -> Syslog:
        port = e2e.free_port()
        log = tmp_path / f"syslog-{port}.log"
        env = (
            os.environ
            | {
                "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
                "DATABASE_URL": e2e.test_database_url(),
                "LOG_LEVEL": "INFO",
            }
            | extra_env
        )
        with log.open("wb") as stderr:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "manage.py", "syslog", "--bind", f"127.0.0.1:{port}"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        processes.append(process)
        assert process.stdout is not None  # stdout=PIPE
        ready = process.stdout.readline()  # the one line it writes, once both sockets bound
        assert "Listening for syslog" in ready, log.read_text()
        return Syslog(port, process, log)

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def stored() -> int:
    return Event.objects.count()


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # the listener closes its side once it has read everything


@pytest.mark.parametrize("transport", ["--tcp", "--udp"])
@pytest.mark.parametrize("rfc", ["--rfc5424", "--rfc3164"])
def test_logger_lines_become_events(start_syslog, transport, rfc):
    syslog = start_syslog()
    message = "Failed password for invalid user oracle from 203.0.113.7 port 50022 ssh2"

    command = [LOGGER, "--server", "127.0.0.1", "--port", str(syslog.port), transport, rfc]

    subprocess.run([*command, "-t", "sshd", "--id=4242", message], check=True, timeout=30)
    wait_until(lambda: stored() == 1, what="the logger line stored")

    event = Event.objects.get()
    assert event.event_type == "ssh.auth.failed_password"
    assert event.username == "oracle"
    assert event.source_ip == "203.0.113.7"
    assert event.source in {socket.gethostname(), socket.getfqdn()}
    assert event.data["program"] == "sshd"
    assert event.data["pid"] == 4242
    assert event.message == message


def test_lines_from_a_tailed_file_arrive_through_rsyslog(start_syslog, tmp_path):
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd is not installed (apt-get install rsyslog)")
    syslog = start_syslog()
    work = tmp_path / "rsyslog"
    work.mkdir()
    tailed = tmp_path / "auth.log"
    tailed.touch()
    config = tmp_path / "rsyslog.conf"
    config.write_text(
        f"""
global(workDirectory="{work}")
module(load="imfile")
input(type="imfile" file="{tailed}" tag="sshd" facility="auth" severity="info")
action(type="omfwd" target="127.0.0.1" port="{syslog.port}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
"""
    )
    modules = ["-M", RSYSLOG_MODULES] if RSYSLOG_MODULES else []
    with (tmp_path / "rsyslog.err").open("wb") as stderr:
        rsyslog = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(config), "-i", str(tmp_path / "rsyslog.pid"), *modules],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        with tailed.open("a") as log:
            for n in range(5):
                log.write(f"Failed password for root from 198.51.100.{n} port 4{n} ssh2\n")
        wait_until(lambda: stored() == 5, what="five lines forwarded by rsyslog")
    finally:
        rsyslog.terminate()
        rsyslog.wait(timeout=20)

    events = Event.objects.order_by("source_ip")
    assert {e.event_type for e in events} == {"ssh.auth.failed_password"}
    assert [e.source_ip for e in events] == [f"198.51.100.{n}" for n in range(5)]
    assert {e.username for e in events} == {"root"}


def test_lines_from_a_tailed_file_arrive_through_syslog_ng(start_syslog, tmp_path):
    if not Path(SYSLOG_NG).exists():
        pytest.skip("syslog-ng is not installed (apt-get install syslog-ng-core)")
    syslog = start_syslog()
    tailed = tmp_path / "auth.log"
    tailed.write_text(
        "".join(f"Failed password for admin from 198.51.100.{n} port 5{n} ssh2\n" for n in range(3))
    )
    config = tmp_path / "syslog-ng.conf"
    # syslog(): RFC 5424 over TCP, octet-counted (RFC 6587), as syslog-ng forwards by default.
    config.write_text(
        f"""@version: 3.35
source s_tailed {{ file("{tailed}" program-override("sshd") flags(no-parse) follow-freq(0.1)); }};
destination d_backend {{ syslog("127.0.0.1" transport("tcp") port({syslog.port})); }};
log {{ source(s_tailed); destination(d_backend); }};
"""
    )
    private = ["-R", str(tmp_path / "persist"), "-p", str(tmp_path / "pid")]
    private += ["-c", str(tmp_path / "ctl"), "--no-caps"]
    with (tmp_path / "syslog-ng.err").open("wb") as stderr:
        sender = subprocess.Popen(
            [SYSLOG_NG, "-F", "-f", str(config), *private],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until(lambda: stored() == 3, what="three lines forwarded by syslog-ng")
    finally:
        sender.terminate()
        sender.wait(timeout=20)

    events = Event.objects.order_by("source_ip")
    assert {e.event_type for e in events} == {"ssh.auth.failed_password"}
    assert [e.source_ip for e in events] == [f"198.51.100.{n}" for n in range(3)]
    assert {e.username for e in events} == {"admin"}


def test_a_flood_over_one_connection_is_slowed_not_lost(start_syslog):
    syslog = start_syslog()
    count = 20_000
    lines = b"".join(
        b"<38>Dec  4 10:00:00 flood sshd[%d]: Failed password for root from 192.0.2.1 port %d ssh2\n"
        % (n, n % 65536)
        for n in range(count)
    )

    send_tcp(syslog.port, lines)
    wait_until(lambda: stored() == count, timeout=300, what=f"{count} events stored")

    assert Event.objects.filter(source="flood").count() == count
    assert len(set(Event.objects.values_list("data__pid", flat=True))) == count


def test_bad_lines_never_stop_the_listener(start_syslog):
    syslog = start_syslog(SYSLOG_STATS_SECONDS="0.2")
    huge = b"<38>Dec  4 10:00:00 big app: " + b"x" * 200_000 + b"\n"
    garbage = b"\xff\xfe\x00\x01 binary \x00 junk\n"
    counted = b"7 <13>one" + b"5 <13>" + b"\n"  # two octet-counted frames, one empty body

    send_tcp(syslog.port, huge + garbage + counted + b"<13>last line\n")
    wait_until(lambda: stored() == 5, what="every line stored")

    assert syslog.process.poll() is None
    messages = [m or "" for m in Event.objects.values_list("message", flat=True)]
    assert max(len(m) for m in messages) <= 10_000
    assert "last line" in " ".join(messages)
    wait_until(lambda: any(c["truncated"] == 1 for c in syslog.counters()), what="counted")


def test_senders_outside_the_allowed_networks_are_refused(start_syslog):
    syslog = start_syslog(SYSLOG_ALLOWED_CIDRS="10.0.0.0/8", SYSLOG_STATS_SECONDS="0.2")

    with socket.create_connection(("127.0.0.1", syslog.port)) as sock:
        sock.settimeout(10)
        try:
            closed = sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(
            b"<13>Dec  4 10:00:00 h sshd[1]: Failed password for root", ("127.0.0.1", syslog.port)
        )
    wait_until(
        lambda: any(
            c["dropped_denied"] == 1 and c["refused_connections"] == 1 for c in syslog.counters()
        ),
        what="the refused datagram and connection counted",
    )

    assert closed
    assert stored() == 0
    assert syslog.counters()[-1]["received"] == 0


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.parametrize("with_syslog", [True, False])
def test_serve_starts_one_listener_unless_told_not_to(transactional_db, with_syslog):
    port, syslog_port = e2e.free_port(), e2e.free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": e2e.test_database_url(),
        "LOG_LEVEL": "WARNING",
        "SYSLOG_BIND": f"127.0.0.1:{syslog_port}",
    }
    options = [] if with_syslog else ["--no-syslog"]
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
            "--no-notify",
            *options,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        e2e.wait_for_port(port, server)
        if with_syslog:
            e2e.wait_for_port(syslog_port, server)
            send_tcp(syslog_port, b"<38>Dec  4 10:00:00 web sshd[7]: Accepted password for ann\n")
            wait_until(lambda: stored() == 1, what="a line through serve's listener")
        children = children_of(server.pid)
        listeners = [pid for pid in children if "manage.py syslog" in command_of(pid)]

        assert len(listeners) == (1 if with_syslog else 0)
        assert len(children) == 1 + len(listeners)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        if server.poll() is None:
            server.kill()


def test_the_listener_of_a_killed_serve_exits_too(transactional_db):
    port, syslog_port = e2e.free_port(), e2e.free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": e2e.test_database_url(),
        "LOG_LEVEL": "WARNING",
        "SYSLOG_BIND": f"127.0.0.1:{syslog_port}",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    try:
        e2e.wait_for_port(port, server)
        e2e.wait_for_port(syslog_port, server)
        children = children_of(server.pid)
        [listener] = [pid for pid in children if "manage.py syslog" in command_of(pid)]

        server.kill()  # no chance to stop its children
        server.wait(timeout=20)

        # Otherwise an orphan would keep the syslog port from the next `serve`.
        wait_for_exit(listener)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in children:  # the orphaned Daphne worker
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def test_the_same_lines_raise_the_same_alerts_whichever_way_they_arrive(
    start_syslog, dataset_dir, api_client, admin_user, bearer
):
    """The loghub lines over syslog TCP, as text to /api/intake/syslog/, and as the
    dataset's NDJSON events: the alerts of its three ground truths, for each way."""
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    folder = dataset_dir / "loghub_openssh"
    lines = (folder / "OpenSSH_2k_lines0001-1000.log").read_text()
    truths = {name: json.loads((folder / name).read_text()) for name in OPENSSH_RULES}
    rules = {
        (name, way): create_rule_from(api_client, auth, truth, source=f"via-{way}")
        for name, truth in truths.items()
        for way in ("syslog", "intake", "ndjson")
    }
    syslog = start_syslog()

    send_tcp(syslog.port, lines.replace(" LabSZ ", " via-syslog ").encode())
    intake = api_client.generic(
        "POST", "/api/intake/syslog/", lines.replace(" LabSZ ", " via-intake ").encode(),
        content_type="text/plain", **auth,
    )  # fmt: skip
    events = [event | {"source": "via-ndjson"} for event in load(dataset_dir, "loghub_openssh")]
    ndjson = api_client.generic(
        "POST", "/api/events/", "\n".join(json.dumps(e) for e in events).encode(),
        content_type="application/x-ndjson", **auth,
    )  # fmt: skip
    wait_until(lambda: stored() == 3000, what="3000 events stored")

    assert (intake.status_code, ndjson.status_code) == (201, 201)
    for (name, way), rule_id in rules.items():
        assert alerted_keys(rule_id, "source_ip") == set(truths[name]["triggered_keys"]), way
