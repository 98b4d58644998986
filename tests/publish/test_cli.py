"""`briefbot tick / publish / subscribers` handlers, in-process on a real database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import archive, publishing, subscribers
from bot.config import Settings, SourceSettings
from bot.runtime import Runtime
from storage.db import create_engine, upgrade_database
from storage.models import DeliveryRow
from tests.publish.helpers import KEY, add_subscriber, briefing, deliveries, make_runtime

Run = Callable[..., Awaitable[tuple[int, str, str]]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot")
    commands = parser.add_subparsers(dest="command", required=True)
    publishing.register(commands)
    subscribers.register(commands)
    archive.register(commands)
    return parser


@pytest.fixture
def runtime(engine: AsyncEngine, tmp_path: Path) -> Runtime:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    settings = Settings(sources=[SourceSettings(kind="folder", name="desk", path=str(folder))])
    return make_runtime(engine, settings)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    async def call(runtime: Runtime, *argv: str) -> tuple[int, str, str]:
        args = _parser().parse_args(list(argv))
        code = await args.handler(args, runtime)
        out, err = capsys.readouterr()
        return code, out, err

    return call


async def test_tick_as_if_at_a_time_publishes_what_is_due(runtime: Runtime, run: Run) -> None:
    await add_subscriber(runtime, "telegram:1001")
    code, out, _ = await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")
    assert code == 0
    assert "desk: 1 fetched, 1 added / 0 updated / 0 unchanged / 0 failed" in out
    assert "published: none" in out
    code, out, _ = await run(runtime, "tick", "--now", "2026-11-02T09:00")  # local time
    assert code == 0 and "published: 2026-11-02" in out
    assert list(await deliveries(runtime)) == ["telegram:1001"]
    code, out, _ = await run(runtime, "tick", "--now", "2026-11-03T09:00")
    assert "published: none" in out and len((await deliveries(runtime))["telegram:1001"]) == 1


async def test_tick_deliver_sends_what_the_cycle_queued(runtime: Runtime, run: Run) -> None:
    await add_subscriber(runtime, "console:local", topics=["chips"])
    await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")
    code, out, _ = await run(runtime, "tick", "--now", "2026-11-02T09:30", "--deliver")
    assert code == 0 and "published: 2026-11-02" in out
    assert "骁龙新平台发布 v1" in out and "某公司完成融资" not in out  # the console chat
    async with runtime.sessions() as session:
        status = await session.scalars(select(DeliveryRow.status))
        assert list(status) == ["sent"]


async def test_tick_reports_a_failed_source_with_exit_status_1(
    engine: AsyncEngine, run: Run, tmp_path: Path
) -> None:
    source = SourceSettings(kind="folder", name="gone", path=str(tmp_path / "nope"))
    runtime = make_runtime(engine, Settings(sources=[source]))
    code, out, err = await run(runtime, "tick")
    assert code == 1 and "gone: FAILED" in out
    assert f"briefbot: source gone failed: folder {tmp_path / 'nope'} does not exist" in err
    code, _, err = await run(runtime, "tick", "--now", "yesterday")
    assert code == 2 and "--now" in err


async def test_publish_by_hand_with_dry_run(runtime: Runtime, run: Run) -> None:
    await add_subscriber(runtime, "telegram:1001")
    await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")
    code, out, _ = await run(runtime, "publish", "2026-11-02", "--dry-run")
    assert code == 0 and out.startswith("Dry run (nothing sent): ")
    assert "1 chat would get it in 1 rendering; 0 chats would get nothing" in out
    assert "telegram:1001 (private) <- telegram;all;format=full;lang=zh: 1 message" in out
    assert await deliveries(runtime) == {}
    code, out, _ = await run(runtime, "publish", "latest")
    assert code == 0 and out.startswith("Published issue 2026-11-02")
    assert "queued: a running `briefbot run` sends them" in out
    code, _, err = await run(runtime, "publish", "2026-11-02")
    assert code == 1 and "already published" in err
    code, _, err = await run(runtime, "publish", "2020-01-01")
    assert code == 1 and "There is no issue dated 2020-01-01." in err


async def test_subscribers_add_list_remove(runtime: Runtime, run: Run) -> None:
    code, out, _ = await run(
        runtime, "subscribers", "add", "telegram:42", "--sections", "论文", "--topics", "chips,量化"
    )
    assert code == 0 and out.strip() == (
        "added telegram:42: section:papers, topic:chips, topic:quantization"
    )
    code, out, _ = await run(runtime, "subscribers", "add", "telegram:@news", "--format", "digest")
    assert code == 0 and out.strip() == "added telegram:@news: all"
    code, out, _ = await run(runtime, "subscribers", "add", "telegram:42", "--language", "en")
    assert out.strip() == "updated telegram:42: all"
    code, _, err = await run(runtime, "subscribers", "add", "telegram:7", "--sections", "chips")
    assert code == 2 and "unknown section 'chips'" in err

    code, out, _ = await run(runtime, "subscribers", "list")
    assert out.splitlines() == [
        "telegram:42  private en full  all",
        "telegram:@news  channel zh digest  all",
    ]
    code, out, _ = await run(runtime, "subscribers", "list", "--json")
    assert [r["chat_id"] for r in json.loads(out)] == ["42", "@news"]

    assert (await run(runtime, "subscribers", "remove", "telegram:42"))[0] == 0
    code, _, err = await run(runtime, "subscribers", "remove", "telegram:42")
    assert code == 1 and "no subscriber telegram:42" in err
    with pytest.raises(SystemExit):
        _parser().parse_args(["subscribers", "add", "irc:1"])


async def test_export_then_import_moves_subscribers_between_bots(
    runtime: Runtime, run: Run, tmp_path: Path
) -> None:
    await add_subscriber(runtime, "telegram:1", sections=["papers"], topics=["chips"])
    await add_subscriber(runtime, "wechat:oX", format="digest", language="en", paused=True)
    await add_subscriber(runtime, "telegram:2", active=False)
    export = tmp_path / "subscribers.json"
    code, out, _ = await run(runtime, "subscribers", "export", "-o", str(export))
    assert code == 0 and "exported 3 subscriber(s)" in out
    data = json.loads(export.read_text("utf-8"))
    assert data["format"] == "briefbot-subscribers" and len(data["subscribers"]) == 3

    other_engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await upgrade_database(other_engine)
    try:
        other = make_runtime(other_engine, runtime.settings)
        code, out, _ = await run(other, "subscribers", "import", str(export))
        assert code == 0 and out.strip() == "imported 3 subscriber(s)"
        _, mine, _ = await run(runtime, "subscribers", "list", "--json")
        _, theirs, _ = await run(other, "subscribers", "list", "--json")
        assert json.loads(theirs) == json.loads(mine)
        bad = tmp_path / "bad.json"
        bad.write_text('{"format": "something-else"}', "utf-8")
        code, _, err = await run(other, "subscribers", "import", str(bad))
        assert code == 1 and "not a subscriber export" in err
    finally:
        await other_engine.dispose()


async def test_publish_deliver_sends_at_once(runtime: Runtime, run: Run) -> None:
    await add_subscriber(runtime, "console:local")
    await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")  # ingested as a draft
    code, out, _ = await run(runtime, "publish", "2026-11-02", "--deliver")
    assert code == 0 and "骁龙新平台发布 v1" in out  # printed by the console sender
    async with runtime.sessions() as session:
        assert list(await session.scalars(select(DeliveryRow.status))) == ["sent"]


async def test_issues_json_shows_every_state(runtime: Runtime, run: Run) -> None:
    folder = Path(runtime.settings.sources[0].path)
    held, future = date(2026, 11, 9), date.today() + timedelta(days=30)
    (folder / f"{held}.md").write_text(briefing(held, unfinished=True), encoding="utf-8")
    (folder / f"{future}.md").write_text(briefing(future), encoding="utf-8")
    await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")  # all first seen early
    await run(runtime, "tick", "--now", "2026-11-09T12:00")  # 11-02 published, 11-09 held
    code, out, _ = await run(runtime, "issues", "--json")
    items = {item["key"]: item for item in json.loads(out)}
    published, hold, draft = items[str(KEY)], items[str(held)], items[str(future)]
    assert code == 0 and published["state"] == "published"
    assert published["published_hash"] == published["content_hash"]
    assert published["published_at"].startswith("2026-11-09T04:00")  # the tick's time, UTC
    assert hold["state"] == "held" and "has no entries" in hold["hold_reason"]
    assert hold["published_at"] is None
    assert draft["state"] == "draft" and draft["published_hash"] is None
    code, out, _ = await run(runtime, "issues")
    assert code == 0 and f"{held}" in out and "held" in out and "draft" in out


async def test_tick_names_an_unreachable_url_and_still_runs_the_other_sources(
    engine: AsyncEngine, run: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    sources = [
        SourceSettings(kind="http", name="web", urls=["http://127.0.0.1:9/2026-11-02.md"]),
        SourceSettings(kind="folder", name="desk", path=str(folder)),
    ]
    runtime = make_runtime(engine, Settings(sources=sources))
    code, out, err = await run(runtime, "tick", "--now", "2026-11-02T09:00")
    assert code == 1 and "desk: 1 fetched, 1 added" in out  # the healthy source still ran
    assert "briefbot: source web failed: http://127.0.0.1:9/2026-11-02.md:" in err


async def test_tick_treats_a_placeholder_as_a_warning_and_garbage_as_a_failure(
    runtime: Runtime, run: Run
) -> None:
    folder = Path(runtime.settings.sources[0].path)
    placeholder = folder / "2026-11-09.md"
    placeholder.write_text("# 嵌入式AI简报 (2026-11-09)\n", encoding="utf-8")
    code, out, err = await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")
    assert code == 0, err
    assert "desk: 2 fetched, 1 added / 0 updated / 0 unchanged / 0 failed / 1 skipped" in out
    assert f"warning: desk: {placeholder}:1: no '## ' sections yet" in err
    assert "error" not in err

    (folder / "2026-11-16.md").write_bytes(b"\x00\x01 not a briefing")
    code, out, err = await run(runtime, "tick", "--now", "2026-10-30T12:00:00+00:00")
    assert code == 1  # a broken file is a failure even next to good ones
    assert f"error: desk: {folder / '2026-11-16.md'}:1: binary data" in err
