"""The job table: each entry calls its function with the time it runs at and its settings."""

from datetime import timedelta

from secalerts.jobs import table
from secalerts.jobs.scheduler import run_forever
from secalerts.jobs.tests.test_scheduler import START, FakeClock
from secalerts.rules import window_state


def test_threshold_pruning_runs_every_interval_keeping_the_state_its_lifetime(
    settings, monkeypatch
):
    settings.THRESHOLD_PRUNE_INTERVAL_SECONDS = 30
    settings.THRESHOLD_STATE_SECONDS = 3600
    calls = []
    monkeypatch.setattr(window_state, "prune_hits", lambda **kwargs: calls.append(kwargs))
    clock = FakeClock(waits=2)

    run_forever(table.scheduled_jobs(), clock=clock)

    assert calls == [
        {"now": START + timedelta(seconds=seconds), "keep_seconds": 3600} for seconds in (0, 30, 60)
    ]


def test_job_names_are_unique():
    names = [job.name for job in table.scheduled_jobs()]

    assert len(names) == len(set(names))
