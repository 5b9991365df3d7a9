"""`manage.py serve --workers N`: several Daphne processes sharing one listening socket.

One Daphne process runs Python on one core. This command binds the socket once and
starts N Daphne workers on it (`daphne --fd`), so the kernel spreads connections
over them, as gunicorn's workers do. Several workers need REDIS_URL: the channel
layer and the login throttle counters must be shared between them.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

APPLICATION = "security_backend.asgi:application"
RESTART_DELAY_SECONDS = 1.0


class Command(BaseCommand):
    help = "Serve HTTP and WebSockets with N Daphne workers on one port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several workers need REDIS_URL: without it each worker would have its own "
                "channel layer and login throttle counters."
            )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as error:
            listener.close()
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        listener.listen(1024)
        listener.set_inheritable(True)
        self.stdout.write(f"Serving on {host}:{port} with {workers} Daphne worker(s)")
        processes = [self._start(listener) for _ in range(workers)]
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping:
                for index, process in enumerate(processes):
                    if process.poll() is not None and not stopping:
                        # A crashed worker is replaced; the others keep serving meanwhile.
                        self.stderr.write(f"worker {process.pid} exited ({process.returncode})")
                        time.sleep(RESTART_DELAY_SECONDS)
                        processes[index] = self._start(listener)
                time.sleep(0.2)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            listener.close()

    def _start(self, listener: socket.socket) -> subprocess.Popen[bytes]:
        daphne = os.path.join(os.path.dirname(sys.executable), "daphne")
        return subprocess.Popen(  # noqa: S603 - our own executable and arguments
            [daphne, "--fd", str(listener.fileno()), APPLICATION],
            pass_fds=[listener.fileno()],
        )
