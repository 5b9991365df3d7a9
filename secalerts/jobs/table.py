"""Every periodic job, one line each: its name, how often, and the function that does it.

A job's function lives with the state it keeps and is called as `run(now=..., **kwargs)`.
It must be idempotent: a run may be missed (the scheduler was down) or happen twice
(two schedulers, or `manage.py scheduler --once` beside one).
"""

from django.conf import settings

from secalerts.alerts import changes
from secalerts.jobs import retention
from secalerts.jobs.scheduler import Job
from secalerts.rules import window_state

PRUNE_INTERVAL_SECONDS = 24 * 3600


def scheduled_jobs() -> tuple[Job, ...]:
    """Read when the scheduler starts: the settings of that moment."""
    return (
        Job(
            "prune_thresholds",
            every_seconds=settings.THRESHOLD_PRUNE_INTERVAL_SECONDS,
            run=window_state.prune_hits,
            kwargs={"keep_seconds": settings.THRESHOLD_STATE_SECONDS},
        ),
        Job("prune_alert_changes", every_seconds=changes.PRUNE_EVERY_SECONDS, run=changes.prune),
        # Also makes the coming days' event partitions (PostgreSQL): they exist a week
        # ahead, so a daily run missed now and then loses nothing.
        Job(
            "prune",
            every_seconds=PRUNE_INTERVAL_SECONDS,
            run=retention.prune,
            kwargs={
                "events_days": settings.EVENTS_RETENTION_DAYS,
                "closed_alerts_days": settings.CLOSED_ALERTS_RETENTION_DAYS,
            },
        ),
    )
