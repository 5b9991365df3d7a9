"""`manage.py serve --workers N`: several Daphne processes behind one port.

One Daphne process runs Python on one core. This command binds a listening socket
per worker on the port (see `_listeners`) and starts a Daphne worker on each
(`daphne --fd`), so the kernel spreads connections over them. Several workers need
REDIS_URL: the channel layer and the login throttle counters must be shared.
Beside them it runs one syslog listener (`manage.py syslog`, on SYSLOG_BIND) unless
`--no-syslog`, and one scheduler of the periodic jobs (`manage.py scheduler`) unless
`--no-scheduler`: one per deployment, not one per worker. And one notification worker
(`manage.py notify_worker`) unless `--no-notify`. All stop with the web workers.

Metrics: the children share a fresh PROMETHEUS_MULTIPROC_DIR made for this run (inside
the one configured, if any) and removed after it, so a scrape of any worker reports
all of them (core.metrics); the live gauges of a child that exits are dropped.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from secalerts.core import metrics

APPLICATION = "security_backend.asgi:application"
RESTART_DELAY_SECONDS = 1.0
# `manage.py syslog` exits so when its port is taken (events' syslog command): restarting
# it would only fail again, so the web workers serve on without it.
SYSLOG_CANNOT_BIND_EXIT_CODE = 3
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Command(BaseCommand):
    help = "Serve HTTP and WebSockets with N Daphne workers on one port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)
        parser.add_argument(
            "--no-syslog",
            action="store_false",
            dest="syslog",
            help="Do not start the syslog listener (manage.py syslog) beside the workers.",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="scheduler",
            help="Do not start the periodic jobs (manage.py scheduler): another host runs them.",
        )
        parser.add_argument(
            "--no-notify",
            action="store_false",
            dest="notify",
            help="Do not start the notification worker (manage.py notify_worker): others send.",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        workers: int,
        syslog: bool,
        scheduler: bool,
        notify: bool,
        **options: Any,
    ) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several workers need REDIS_URL: without it each worker would have its own "
                "channel layer and login throttle counters."
            )
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        # Before the port opens: a client may stop us as soon as it answers.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        listeners = _listeners(host, port, workers)
        port = listeners[0].getsockname()[1]
        self.stdout.write(f"Serving on {host}:{port} with {workers} Daphne worker(s)")
        env = dict(os.environ)
        if workers > 1:
            # A spare ingest writer overlaps one process's computing with the database's
            # (ingest.writer); with a worker per core the other workers do that, and
            # spares gain nothing or add contention (docs/performance.md).
            env.setdefault("EVENTS_SPARE_WRITERS", "0")
        metrics_dir = _metrics_directory(env)
        processes = [self._start(listener, env) for listener in listeners]
        syslog_process = self._start_command("syslog", env) if syslog else None
        scheduler_process = self._start_command("scheduler", env) if scheduler else None
        notify_process = self._start_command("notify_worker", env) if notify else None
        try:
            while not stopping:
                for index, process in enumerate(processes):
                    if process.poll() is not None and not stopping:
                        # A crashed worker is replaced on its socket; the others keep serving.
                        self.stderr.write(f"worker {process.pid} exited ({process.returncode})")
                        _forget(process, metrics_dir)
                        time.sleep(RESTART_DELAY_SECONDS)
                        processes[index] = self._start(listeners[index], env)
                if syslog_process is not None and syslog_process.poll() is not None:
                    _forget(syslog_process, metrics_dir)
                    syslog_process = self._replace_syslog(syslog_process, env, stopping)
                if scheduler_process is not None and scheduler_process.poll() is not None:
                    _forget(scheduler_process, metrics_dir)
                    scheduler_process = self._replace_scheduler(scheduler_process, env, stopping)
                if notify_process is not None and notify_process.poll() is not None:
                    _forget(notify_process, metrics_dir)
                    notify_process = self._replace_command(notify_process, env, stopping)
                time.sleep(0.2)
        finally:
            helpers = [
                p for p in (syslog_process, scheduler_process, notify_process) if p is not None
            ]
            everything = [*processes, *helpers]
            for process in everything:
                if process.poll() is None:
                    process.terminate()
            for process in everything:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            for listener in listeners:
                listener.close()
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)

    def _start(self, listener: socket.socket, env: dict[str, str]) -> subprocess.Popen[bytes]:
        daphne = os.path.join(os.path.dirname(sys.executable), "daphne")
        return subprocess.Popen(  # noqa: S603 - our own executable and arguments
            [daphne, "--fd", str(listener.fileno()), APPLICATION],
            pass_fds=[listener.fileno()],
            env=env,
        )

    def _start_command(self, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """`manage.py <command>` beside the workers."""
        return subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, os.path.join(settings.BASE_DIR, "manage.py"), command],
            env=env,
            # Even if this process is killed outright: an orphaned listener would keep the
            # syslog port, and the next `serve` could not start one; an orphaned
            # scheduler would run beside the next `serve`'s.
            preexec_fn=_exit_with_parent,
        )

    def _replace_syslog(
        self, process: subprocess.Popen[bytes], env: dict[str, str], stopping: bool
    ) -> subprocess.Popen[bytes] | None:
        self.stderr.write(f"syslog listener {process.pid} exited ({process.returncode})")
        if stopping or process.returncode == SYSLOG_CANNOT_BIND_EXIT_CODE:
            return None
        time.sleep(RESTART_DELAY_SECONDS)
        return self._start_command("syslog", env)

    def _replace_scheduler(
        self, process: subprocess.Popen[bytes], env: dict[str, str], stopping: bool
    ) -> subprocess.Popen[bytes] | None:
        self.stderr.write(f"scheduler {process.pid} exited ({process.returncode})")
        if stopping:
            return None
        time.sleep(RESTART_DELAY_SECONDS)
        return self._start_command("scheduler", env)

    def _replace_command(
        self, process: subprocess.Popen[bytes], env: dict[str, str], stopping: bool
    ) -> subprocess.Popen[bytes] | None:
        """A notification worker that died is replaced (it requeues what it was sending)."""
        self.stderr.write(f"notify_worker {process.pid} exited ({process.returncode})")
        if stopping:
            return None
        time.sleep(RESTART_DELAY_SECONDS)
        return self._start_command("notify_worker", env)


def _metrics_directory(env: dict[str, str]) -> str | None:
    """A fresh directory for this run's metrics, set in the children's `env`: counts of
    an earlier run (or of a reused process id) must not be summed into this one's."""
    if not settings.METRICS_ENABLED:
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return None
    parent = settings.PROMETHEUS_MULTIPROC_DIR or None
    if parent is not None:
        os.makedirs(parent, exist_ok=True)
    directory = tempfile.mkdtemp(prefix="secalerts-metrics-", dir=parent)
    env["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def _forget(process: subprocess.Popen[bytes], metrics_dir: str | None) -> None:
    if metrics_dir is not None:
        metrics.forget_process(process.pid, metrics_dir)


def _exit_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per worker on one port (SO_REUSEPORT): the kernel spreads
    new connections over them. Sharing one socket instead, the first worker to wake
    accepted every connection waiting (Twisted takes up to 100 at once), so 4
    shippers connecting together all went to one worker while the others idled.
    The sockets stay open here while workers come and go: connections waiting on a
    dead worker's socket are taken by its replacement, not refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Sockets with SO_REUSEPORT share a port with any other such socket of this
        # user: a plain bind first, so a port already served is refused as before.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        port = probe.getsockname()[1]
    listeners: list[socket.socket] = []
    try:
        for _ in range(count):
            listener = socket.socket(family, socket.SOCK_STREAM)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind((host, port))
            listener.listen(1024)
            listener.set_inheritable(True)
    except OSError as error:
        for listener in listeners:
            listener.close()
        raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
    return listeners
