"""Pollers: a broken source never stops the others; failures back off; garbage is reported."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import Settings, SourceSettings
from bot.publish.cycle import build_cycle
from bot.sources.poller import SourcePoller, build_pollers, data_dir, source_name
from tests.publish.helpers import KEY, add_subscriber, briefing, deliveries, make_runtime, utc


async def test_broken_sources_next_to_a_good_one(engine: AsyncEngine, tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    sources = [
        SourceSettings(kind="git", name="gone", url=str(tmp_path / "no-such-repo.git")),
        SourceSettings(kind="folder", name="missing", path=str(tmp_path / "nowhere")),
        SourceSettings(kind="http", name="refused", urls=["http://127.0.0.1:9/x.md"]),
        SourceSettings(kind="folder", name="good", path=str(good)),
    ]
    runtime = make_runtime(engine, Settings(sources=sources))
    await add_subscriber(runtime, "telegram:1001")
    clock = FixedClock(utc(11, 1))
    cycle = build_cycle(runtime, clock, cache_dir=tmp_path / "cache")
    report = await cycle.run_once()
    status = {poll.source: poll.ok for poll in report.polls}
    assert status == {"gone": False, "missing": False, "refused": False, "good": True}
    errors = {poll.source: poll.error or "" for poll in report.polls}
    assert "git clone failed" in errors["gone"] and "not a directory" in errors["missing"]

    clock.set(utc(11, 2, 2))
    report = await cycle.run_once()
    assert [p.key for p in report.check.published] == [KEY]
    assert list(await deliveries(runtime)) == ["telegram:1001"]


def _folder_poller(engine: AsyncEngine, folder: Path, clock: FixedClock) -> SourcePoller:
    source = SourceSettings(kind="folder", name="f", path=str(folder), interval_seconds=60)
    (poller,) = build_pollers(make_runtime(engine, Settings(sources=[source])), clock)
    return poller


async def test_failures_back_off_exponentially_and_recover(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "later"
    clock = FixedClock(utc(11, 1))
    poller = _folder_poller(engine, folder, clock)
    delays = []
    for _ in range(8):
        result = await poller.poll()
        assert result is not None and not result.ok
        assert poller.retry_at is not None
        delays.append((poller.retry_at - clock.now()).total_seconds())
        assert await poller.poll() is None  # backing off: skipped
        clock.set(poller.retry_at)
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]

    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    result = await poller.poll()
    assert result is not None and result.ok and result.report is not None
    assert result.report.added == 1
    assert (poller.failures, poller.retry_at) == (0, None)
    assert poller.ready(clock.now() + timedelta(seconds=1))


async def test_garbage_is_a_failure_reported_once_per_content(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "junk.md").write_bytes(b"\x00\x01 binary junk")
    clock = FixedClock(utc(11, 1))
    poller = _folder_poller(engine, folder, clock)
    result = await poller.poll()
    assert result is not None and not result.ok and "nothing usable" in (result.error or "")
    assert result.report is not None and result.report.failed == 1

    clock.set(poller.retry_at or clock.now())
    again = await poller.poll(force=True)
    assert again is not None and again.ok and again.report is None  # same bytes: not re-parsed

    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    mixed = await poller.poll(force=True)
    assert mixed is not None and mixed.ok and mixed.report is not None
    assert (mixed.report.added, mixed.report.failed) == (1, 0)

    (folder / "junk.md").write_bytes(b"\x00 other junk")
    (folder / f"{KEY}.md").write_text(briefing(version="v2"), encoding="utf-8")
    both = await poller.poll(force=True)
    assert both is not None and both.ok and both.report is not None
    assert (both.report.updated, both.report.failed) == (1, 1)


def test_names_and_data_dir() -> None:
    folder = SourceSettings(kind="folder", path="samples")
    assert source_name(folder, 0) == "folder-0:samples"
    assert source_name(SourceSettings(kind="folder", name="mine", path="x"), 3) == "mine"
    sqlite = Settings.model_validate({"storage": {"url": "sqlite+aiosqlite:////srv/bb/db.sqlite3"}})
    assert data_dir(sqlite) == Path("/srv/bb")
    pg = Settings.model_validate({"storage": {"url": "postgresql+psycopg://u@h/db"}})
    assert data_dir(pg) == Path("data").resolve()


async def test_a_source_is_polled_once_at_a_time(engine: AsyncEngine, tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    poller = _folder_poller(engine, folder, FixedClock(utc(11, 1)))
    results = await asyncio.gather(poller.poll(), poller.poll(), poller.poll(force=True))
    assert results[1] is None  # the interval job skips while the first poll runs
    assert results[0] is not None and results[0].report is not None
    assert results[0].report.added == 1
    assert results[2] is not None and results[2].report is None  # waited, then nothing new
