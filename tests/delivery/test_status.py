"""`briefbot status` / `resume`, the status snapshot, and drain_configured()."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.app import drain_configured
from bot.cli import delivery as delivery_cli
from bot.config import Settings, StorageSettings
from bot.delivery import DeliveryEngine, pauses
from bot.delivery.status import RateMeter, bar, duration, issue_statuses, render
from bot.delivery.types import ChatGone, Permanent
from bot.runtime import Runtime, open_runtime
from storage import instances
from storage.instances import Identity
from storage.models import InstanceRow
from tests.delivery.fakes import ScriptedSender
from tests.delivery.helpers import FAST, TUNING, Sessions, seed
from tests.storage.factories import at

FIRST, SECOND = date(2025, 3, 1), date(2025, 3, 2)


@pytest.fixture
async def runtime(sqlite_sessions: Sessions) -> AsyncIterator[Runtime]:
    url = str(sqlite_sessions.kw["bind"].url)
    async with open_runtime(Settings(storage=StorageSettings(url=url))) as rt:
        yield rt


def engine(sessions: Sessions, sender: ScriptedSender) -> DeliveryEngine:
    return DeliveryEngine(sessions, {sender.platform: sender}, FAST, limits={}, tuning=TUNING)


async def first_issue_delivered(sessions: Sessions) -> None:
    seeded = await seed(sessions, 6)
    chats = [str(c) for c in seeded.expected]
    script = {chats[0]: [Permanent("Bad Request: message is too long")], chats[1]: [ChatGone("x")]}
    await engine(sessions, ScriptedSender(script=script)).run_until_idle()


async def cli(runtime: Runtime, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    delivery_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return await args.handler(args, runtime)


async def test_snapshot_counts_rate_and_eta(sqlite_sessions: Sessions) -> None:
    await first_issue_delivered(sqlite_sessions)
    second = await seed(sqlite_sessions, 3, issue_day=2)
    now = datetime.now(UTC)
    async with sqlite_sessions.begin() as session:
        await pauses.pause_issue(session, second.issue_id, "errors: 50 within 60s", at(0))
        [first] = await issue_statuses(session, "embedded-ai", FIRST, now) or []
        default = await issue_statuses(session, "embedded-ai", None, now) or []
        assert await issue_statuses(session, "embedded-ai", date(2030, 1, 1), now) is None

    [telegram] = first.platforms
    assert (telegram.sent, telegram.pending, telegram.failed, telegram.dropped) == (4, 0, 1, 1)
    assert telegram.fraction == 1.0 and telegram.eta_seconds == 0.0
    assert telegram.rate > 0  # deliveries finished within the last minute
    assert first.done and first.paused is None
    [pending] = default  # the newest issue; the finished older one is left out
    assert pending.key == SECOND and pending.paused == "errors: 50 within 60s"
    assert pending.platforms[0].pending == 3 and pending.platforms[0].eta_seconds is None
    text = render([first, pending])
    assert "2025-03-01  done" in text and "sent 4  pending 0  failed 1  dropped 1" in text
    assert "2025-03-02  PAUSED" in text and "ETA --:--" in text and bar(1.0) in text


def test_rate_meter_bar_and_durations() -> None:
    meter = RateMeter(span=10)
    assert meter.rate((1, "telegram"), 0.0, 0) is None
    assert meter.rate((1, "telegram"), 2.0, 60) == 30.0
    assert meter.rate((1, "telegram"), 20.0, 600) == 30.0  # old samples roll off
    assert bar(0.5, 4) == "[██░░]" and bar(0.0, 2) == "[░░]"
    assert duration(None) == "--:--" and duration(75) == "1:15" and duration(3725) == "1:02:05"


async def test_status_command_text_json_and_unknown_issue(
    runtime: Runtime, sqlite_sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    await first_issue_delivered(sqlite_sessions)
    assert await cli(runtime, "status") == 0
    out = capsys.readouterr().out
    assert "2025-03-01  done" in out and "instances: none running" in out
    assert await cli(runtime, "status", "2025-03-01", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["leader"], shown["instances"]) == (None, [])
    [issue] = shown["issues"]
    assert issue["key"] == "2025-03-01" and issue["done"] is True
    [platform] = issue["platforms"]
    assert (platform["sent"], platform["failed"], platform["dropped"]) == (4, 1, 1)
    assert platform["progress"] == 1.0 and platform["total"] == 6
    assert await cli(runtime, "status", "2030-01-01") == 1
    assert "no issue 2030-01-01" in capsys.readouterr().err


async def test_watch_redraws_until_delivery_is_done(
    runtime: Runtime, sqlite_sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(sqlite_sessions, 12)
    slow = engine(sqlite_sessions, ScriptedSender(delay=0.05))
    delivering = asyncio.create_task(slow.run_until_idle())
    code = await cli(runtime, "status", "latest", "--watch", "--json", "--interval", "0.1")
    await delivering
    frames = [json.loads(line)["issues"] for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(frames) >= 2
    assert frames[0][0]["done"] is False and frames[-1][0]["done"] is True
    assert frames[-1][0]["platforms"][0]["sent"] == 12


async def test_resume_command(
    runtime: Runtime, sqlite_sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = await seed(sqlite_sessions, 2)
    async with sqlite_sessions.begin() as session:
        await pauses.pause_issue(session, seeded.issue_id, "burst", at(0))
    assert await cli(runtime, "resume", "2025-03-01") == 0
    assert await cli(runtime, "resume", "latest") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["2025-03-01: delivery resumed", "2025-03-01: delivery was not paused"]
    assert await cli(runtime, "resume", "2030-01-01") == 1


async def test_drain_sends_with_the_configured_senders(
    runtime: Runtime, sqlite_sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = await seed(sqlite_sessions, 3, platform="console")
    telegram = await seed(sqlite_sessions, 2, issue_day=2)  # no token: left pending
    report = await drain_configured(runtime)
    out = capsys.readouterr().out
    for chat, texts in seeded.expected.items():
        assert f"── to console:{chat} ──" in out
        assert all(text in out for text in texts)
    assert report.deliveries_sent == 3 and "3 sent" in str(report)
    async with sqlite_sessions() as session:
        [status] = await issue_statuses(session, "embedded-ai", SECOND, datetime.now(UTC)) or []
    assert status.platforms[0].pending == 2 and telegram.issue_id == status.issue_id


async def test_status_lists_instances_their_heartbeats_and_the_leader(
    runtime: Runtime, sqlite_sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    await first_issue_delivered(sqlite_sessions)
    leader, standby, dead = (
        Identity(c * 32, f"host-{c}", n) for n, c in enumerate("abc", start=100)
    )
    async with sqlite_sessions.begin() as session:
        for who in (leader, standby, dead):
            await instances.heartbeat(session, who, leader=who is dead)  # a dead one's flag
        await instances.heartbeat(session, leader, leader=True)
        await session.execute(
            update(InstanceRow)
            .where(InstanceRow.id == dead.id)
            .values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=42))
        )
    assert await cli(runtime, "status") == 0
    text = capsys.readouterr().out
    assert "instances: 2 alive, leader aaaaaaaa" in text
    assert "aaaaaaaa  leader  host-a pid 100" in text
    assert "bbbbbbbb  standby host-b pid 101" in text
    assert "cccccccc  DEAD    host-c pid 102  heartbeat 42." in text
    assert await cli(runtime, "status", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["leader"] == leader.id
    listed = {i["id"]: i for i in shown["instances"]}
    assert [listed[w.id]["leader"] for w in (leader, standby, dead)] == [True, False, False]
    assert [listed[w.id]["alive"] for w in (leader, standby, dead)] == [True, True, False]
    assert 42 <= listed[dead.id]["heartbeat_age_seconds"] < 50
    assert listed[standby.id]["heartbeat_age_seconds"] < 5
