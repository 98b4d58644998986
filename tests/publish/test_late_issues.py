"""Every finished issue reaches readers: a replayed history through `briefbot tick --now`.

Each history is the editor's files as they were committed (a git source) or written (a
folder source), one `tick --now` per moment; the assertions are on the delivery rows,
one per subscriber and issue, which is what a push is.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import publishing
from bot.config import Settings
from bot.runtime import Runtime
from tests.publish.helpers import (
    KEY,
    add_subscriber,
    briefing,
    deliveries,
    make_runtime,
    summary_of,
    utc,
)
from tests.publish.test_lifecycle import Desk

READERS = ("telegram:1001", "telegram:1002")


def skeleton(key: date = KEY) -> str:
    """What curators commit first: the title and the section headings, no entries yet."""
    return f"# 嵌入式AI简报 ({key.isoformat()}) 测试\n\n## 业界新闻\n\n## 论文\n\n## 博文\n"


def placeholder(key: date = KEY) -> str:
    """Only the title: not an issue yet (no sections), but the archive sees it written."""
    return f"# 嵌入式AI简报 ({key.isoformat()}) 测试\n\n> 导读：待补充。\n"


def with_repaired_defect(key: date = KEY) -> str:
    """Finished, with text after an item's link that the parser keeps in the summary."""
    text = briefing(key)
    broken = text.replace(
        "(https://example.com/n2)", "(https://example.com/n2) https://example.com/n2 重复链接", 1
    )
    assert broken != text
    return broken


@pytest.fixture(params=["folder", "git"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Desk:
    return Desk(request.param, tmp_path)


@pytest.fixture
async def runtime(engine: AsyncEngine, desk: Desk) -> Runtime:
    runtime = make_runtime(engine, Settings(sources=[desk.source]))
    for reader in READERS:
        await add_subscriber(runtime, reader)
    return runtime


async def tick(runtime: Runtime, capsys: pytest.CaptureFixture[str], now: str) -> tuple[str, str]:
    parser = argparse.ArgumentParser(prog="briefbot")
    publishing.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tick", "--now", now])
    assert await args.handler(args, runtime) == 0
    out, err = capsys.readouterr()
    return out, err


async def pushed(runtime: Runtime) -> dict[str, int]:
    """Deliveries of KEY per reader: 1 is one push, 0 is none."""
    found = await deliveries(runtime)
    return {reader: len(found.get(reader, [])) for reader in READERS}


async def test_a_skeleton_held_on_its_date_goes_out_once_filled_days_later(
    runtime: Runtime, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.write(skeleton())  # 2026-11-02 08:30 Shanghai: the day's file, still empty
    await tick(runtime, capsys, utc(11, 2, 0, 30).isoformat())
    _, err = await tick(runtime, capsys, utc(11, 2, 1, 40).isoformat())  # due and settled
    assert "looks unfinished" in err  # admins are told it is held
    assert (await summary_of(runtime)).held_at is not None
    assert await pushed(runtime) == {"telegram:1001": 0, "telegram:1002": 0}

    desk.write(briefing())  # filled four days later: after backfill_days (3)
    await tick(runtime, capsys, utc(11, 6, 2, 0).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 0, "telegram:1002": 0}  # settling
    await tick(runtime, capsys, utc(11, 6, 2, 40).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 1, "telegram:1002": 1}
    summary = await summary_of(runtime)
    assert summary.published_at == utc(11, 6, 2, 40) and summary.published_hash
    assert not summary.published_hash.startswith("archived")

    desk.write(briefing(version="v2"))  # later edits do not push it again
    await tick(runtime, capsys, utc(11, 6, 4).isoformat())
    await tick(runtime, capsys, utc(11, 7, 4).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 1, "telegram:1002": 1}


async def test_a_placeholder_seen_on_its_date_makes_a_late_issue_not_a_stale_one(
    runtime: Runtime, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.write(placeholder())
    out, err = await tick(runtime, capsys, utc(11, 2, 0, 30).isoformat())
    assert "1 skipped" in out and "no '## ' sections yet" in err  # a warning, not a failure
    desk.write(briefing())  # five days later
    await tick(runtime, capsys, utc(11, 7, 2).isoformat())
    assert (await summary_of(runtime)).first_seen_at == utc(11, 2, 0, 30)
    await tick(runtime, capsys, utc(11, 7, 2, 40).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 1, "telegram:1002": 1}


async def test_an_issue_discovered_late_is_archived_not_pushed(
    runtime: Runtime, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    """The other side of the rule: never seen until days after its date (downtime, an
    archive imported late), it is archived; backfill_days is for this case."""
    desk.write(briefing())
    await tick(runtime, capsys, utc(11, 7, 2).isoformat())
    await tick(runtime, capsys, utc(11, 7, 2, 40).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 0, "telegram:1002": 0}
    summary = await summary_of(runtime)
    assert summary.published_hash is not None and summary.published_hash.startswith("archived")


async def test_a_repaired_defect_is_reported_and_the_issue_still_goes_out(
    runtime: Runtime, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.write(with_repaired_defect())  # written the day before its date
    await tick(runtime, capsys, utc(11, 1, 2).isoformat())
    _, err = await tick(runtime, capsys, utc(11, 2, 1, 5).isoformat())
    assert await pushed(runtime) == {"telegram:1001": 1, "telegram:1002": 1}
    assert "defects the parser repaired" in err
    assert "text after the item's links" in err
    assert "looks unfinished" not in err
