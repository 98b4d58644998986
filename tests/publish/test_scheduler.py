"""APScheduler wiring: start-up catch-up after downtime (once), interval jobs with a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import PublishSettings, Settings, SourceSettings
from bot.publish.cycle import Cycle, build_cycle
from bot.publish.scheduler import CHECK_JOB, MAINTENANCE_JOB, STARTUP_JOB, build_scheduler
from bot.runtime import Runtime
from storage.search import search
from tests.publish.helpers import KEY, add_subscriber, briefing, deliveries, make_runtime, utc


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _run_until(cycle: Cycle, done: Callable[[], Awaitable[bool]]) -> None:
    scheduler = build_scheduler(cycle)
    scheduler.start()
    try:
        await _eventually(done)
        await _eventually(lambda: _no_job(scheduler, STARTUP_JOB))
    finally:
        scheduler.shutdown(wait=False)


async def _no_job(scheduler: object, job_id: str) -> bool:
    return scheduler.get_job(job_id) is None  # type: ignore[attr-defined]


def _settings(folder: Path) -> Settings:
    return Settings(
        sources=[SourceSettings(kind="folder", path=str(folder), interval_seconds=3600)],
        publish=PublishSettings(check_interval_seconds=3600),
    )


async def test_missed_publication_happens_on_start_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    runtime = make_runtime(engine, _settings(folder))
    await add_subscriber(runtime, "telegram:1001")
    clock = FixedClock(utc(11, 1, 12))
    await build_cycle(runtime, clock).run_once()  # seen as a draft, then the bot went down
    assert await deliveries(runtime) == {}

    clock.set(utc(11, 4, 6))  # back two days after the due time, inside the backfill window

    async def published() -> bool:
        return bool(await deliveries(runtime))

    await _run_until(build_cycle(runtime, clock), published)
    sent = await deliveries(runtime)
    assert list(sent) == ["telegram:1001"] and "v1" in sent["telegram:1001"][0].text

    clock.advance(hours=1)  # a second restart publishes nothing more
    restarted = build_cycle(runtime, clock)
    await _run_until(restarted, lambda: _true())
    assert {chat: len(s) for chat, s in (await deliveries(runtime)).items()} == {"telegram:1001": 1}


async def _true() -> bool:
    return True


async def test_jobs_use_the_intervals_and_the_injected_clock(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    runtime: Runtime = make_runtime(engine, _settings(folder))
    clock = FixedClock(utc(11, 2, 3))
    cycle = build_cycle(runtime, clock)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    scheduler = build_scheduler(cycle, start=start)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {STARTUP_JOB, CHECK_JOB, MAINTENANCE_JOB, f"poll:{cycle.pollers[0].name}"}
    assert jobs[MAINTENANCE_JOB].trigger.interval == timedelta(days=1)
    assert jobs[MAINTENANCE_JOB].trigger.start_date == start + timedelta(days=1)
    poll = jobs[f"poll:{cycle.pollers[0].name}"]
    assert poll.trigger.interval == timedelta(seconds=3600)
    assert poll.trigger.start_date == start + timedelta(seconds=3600)
    assert jobs[CHECK_JOB].trigger.interval == timedelta(seconds=3600)
    assert jobs[CHECK_JOB].max_instances == 1 and jobs[CHECK_JOB].coalesce


async def test_maintenance_compacts_the_index_and_search_still_answers(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    runtime = make_runtime(engine, _settings(folder))
    cycle = build_cycle(runtime, FixedClock(utc(11, 1, 12)))
    await cycle.run_once()
    before = await _search(runtime, "骁龙")
    await cycle.maintain()
    await cycle.wait_idle()
    assert before and await _search(runtime, "骁龙") == before


async def _search(runtime: Runtime, words: str) -> list[str]:
    async with runtime.sessions() as session:
        page = await search(session, words, series_slug=runtime.series.slug, per_page=10)
    return [hit.title for hit in page.hits]
