"""`manage.py scheduler`: run the periodic jobs (secalerts.jobs.table) until stopped.

`manage.py serve` starts one beside its workers. Deployments that run the web workers
some other way run one of these, once per deployment: each job is idempotent, so a
second scheduler only repeats work. `--once` runs the jobs once and exits (for cron,
or by hand).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from secalerts.jobs import scheduler
from secalerts.jobs.table import scheduled_jobs


class Command(BaseCommand):
    help = "Run the periodic jobs (threshold pruning, ...) at their intervals until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        names = [job.name for job in scheduled_jobs()]
        parser.add_argument("--once", action="store_true", help="Run the jobs once, now, and exit.")
        parser.add_argument(
            "--job",
            action="append",
            choices=names,
            dest="names",
            help="Only this job (may be repeated); default: all of them.",
        )

    def handle(self, *args: Any, once: bool, names: list[str] | None, **options: Any) -> None:
        jobs = [job for job in scheduled_jobs() if names is None or job.name in names]
        if once:
            now = timezone.now()
            failed = [job.name for job in jobs if not scheduler.run_job(job, now=now)]
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)} (see the log).")
            return
        self.stdout.write(
            "Scheduler running: "
            + ", ".join(f"{job.name} every {job.every_seconds:g} s" for job in jobs)
        )
        self.stdout.flush()
        scheduler.run_forever(jobs, clock=scheduler.SystemClock())
