"""APScheduler wiring: a start-up cycle, then per-source polls and publication checks.

APScheduler decides *when* jobs run (wall-clock time); the jobs ask the cycle's
injectable clock what time it *is*, so every decision is testable with a fake clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.publish.cycle import Cycle

STARTUP_JOB = "startup-cycle"
CHECK_JOB = "publish-check"
MAINTENANCE_JOB = "search-maintenance"
MAINTENANCE_INTERVAL = timedelta(days=1)


def build_scheduler(cycle: Cycle, *, start: datetime | None = None) -> AsyncIOScheduler:
    """Jobs for the cycle; call `.start()` inside the running event loop, `.shutdown()` at exit.

    The start-up job polls everything once and then checks: after downtime, a missed
    publication happens right away (and only once: the database says what went out).
    """
    start = start or datetime.now(UTC)
    scheduler = AsyncIOScheduler(timezone=UTC)
    options = {"coalesce": True, "max_instances": 1}
    scheduler.add_job(
        cycle.run_once, "date", run_date=start, id=STARTUP_JOB, misfire_grace_time=None
    )
    for poller in cycle.pollers:
        every = poller.interval_seconds
        scheduler.add_job(
            cycle.poll,
            IntervalTrigger(seconds=every, start_date=start + timedelta(seconds=every)),
            args=[poller],
            id=f"poll:{poller.name}",
            misfire_grace_time=every,
            **options,
        )
    every = cycle.runtime.settings.publish.check_interval_seconds
    scheduler.add_job(
        cycle.check,
        IntervalTrigger(seconds=every, start_date=start + timedelta(seconds=every)),
        id=CHECK_JOB,
        misfire_grace_time=every,
        **options,
    )
    scheduler.add_job(
        cycle.maintain,
        IntervalTrigger(
            seconds=MAINTENANCE_INTERVAL.total_seconds(), start_date=start + MAINTENANCE_INTERVAL
        ),
        id=MAINTENANCE_JOB,
        misfire_grace_time=None,
        **options,
    )
    return scheduler
