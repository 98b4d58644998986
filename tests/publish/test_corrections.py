"""Corrections reach readers (issue 14), end to end on the local Bot API server: a
published issue edited within the window edits the sent Telegram messages in place, or
sends a short correction when the new text needs more messages; later edits, or
corrections switched off, only change the archive; a crash resends nothing done.

Runs on SQLite and PostgreSQL (the `engine` fixture is parametrised over both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import archive
from bot.clock import FixedClock
from bot.config import PublishSettings, Settings, SourceSettings
from bot.delivery import drain
from bot.delivery.engine import EngineTuning
from bot.platforms.telegram.sender import TelegramSender
from bot.publish.corrections import Corrector
from bot.publish.cycle import Cycle, build_cycle
from bot.runtime import Runtime
from storage.corrections import ChangedIssue, Delivered, corrections_sent, delivered
from storage.deliveries.writes import sent_message_ids
from storage.models import CorrectionRow, DeliveryRow, SubscriberRow
from tests.fakes.telegram_fixtures import ServerFactory, telegram_server_factory_fixture
from tests.fakes.telegram_server import FakeTelegramServer
from tests.publish.helpers import BR, KEY, add_subscriber, make_runtime, summary_of, utc

__all__ = ["telegram_server_factory_fixture"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FAST = EngineTuning(idle_poll=0.01, stale_after=0.5)


def issue_text(titles: list[str], *, long: bool = False) -> str:
    """An issue with one news entry per title; `long` summaries take it past one
    Telegram message (4096 characters), so the rendering needs several."""
    summary = ("端侧推理框架的又一次更新，" * 12) if long else "一句话摘要。"
    entries = "".join(
        f"- [{title} | 来源](https://example.com/{i}){BR}\n摘要：{summary}\n"
        for i, title in enumerate(titles)
    )
    return f"""# 嵌入式AI简报 ({KEY.isoformat()}) 测试

> 导读：本期测试。

## 业界新闻

{entries}
## 论文

- [一种新的剪枝方法 | arXiv](https://arxiv.org/abs/2601.00001){BR}
摘要：剪枝。
"""


class Desk:
    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "issues"
        self.folder.mkdir()

    def write(self, text: str) -> None:
        (self.folder / f"{KEY}.md").write_text(text, encoding="utf-8")


async def setup(
    engine: AsyncEngine, tmp_path: Path, text: str, **publish: Any
) -> tuple[Runtime, Cycle, FixedClock, Desk]:
    desk = Desk(tmp_path)
    desk.write(text)
    settings = Settings(
        sources=[SourceSettings(kind="folder", path=str(desk.folder))],
        publish=PublishSettings(**publish),
    )
    runtime = make_runtime(engine, settings)
    await add_subscriber(runtime, "telegram:1001")
    await add_subscriber(runtime, "telegram:1002", language="en")
    clock = FixedClock(utc(10, 30))
    cycle = build_cycle(runtime, clock, cache_dir=tmp_path / "cache")
    await cycle.run_once()  # first seen days before its date
    return runtime, cycle, clock, desk


async def tick(cycle: Cycle, clock: FixedClock, at: datetime) -> None:
    clock.set(at)
    await cycle.run_once()


async def push(runtime: Runtime, server: FakeTelegramServer) -> None:
    async with TelegramSender.open(server.token, server.base_url, read_timeout=2) as sender:
        await drain(runtime, {"telegram": sender}, tuning=FAST)


async def published_and_sent(
    runtime: Runtime, cycle: Cycle, clock: FixedClock, server: FakeTelegramServer
) -> None:
    await tick(cycle, clock, utc(11, 2, 2))  # due at 01:00 UTC, settled: published
    await push(runtime, server)


async def edit(cycle: Cycle, clock: FixedClock, desk: Desk, text: str, at: datetime) -> None:
    desk.write(text)
    await tick(cycle, clock, at)  # the archive sees the edit
    await tick(cycle, clock, at.replace(minute=at.minute + 31))  # settled: corrected


def texts(server: FakeTelegramServer, chat: int) -> dict[int, str]:
    return {m.message_id: m.visible_text for m in server.messages_in(chat)}


async def chat_message_ids(runtime: Runtime, chat: str) -> dict[int, str]:
    async with runtime.sessions() as session:
        delivery = await session.scalar(
            select(DeliveryRow.id)
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
            .where(SubscriberRow.chat_id == chat)
        )
        assert delivery is not None
        return await sent_message_ids(session, delivery)


async def test_an_edit_in_the_window_edits_the_sent_messages_in_place(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    titles = [f"条目{i}" for i in range(24)]
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(titles, long=True))
    await published_and_sent(runtime, cycle, clock, server)
    before = texts(server, 1001)
    assert len(before) >= 2  # several messages: one changes, the others must stay untouched
    assert sorted(map(int, (await chat_message_ids(runtime, "1001")).values())) == sorted(before)

    fixed = [*titles[:-1], "条目23（已更正）"]  # a typo in the last entry's title
    await edit(cycle, clock, desk, issue_text(fixed, long=True), utc(11, 2, 5))
    await push(runtime, server)

    after = texts(server, 1001)
    assert set(after) == set(before)  # the same messages, no new one
    changed = [m for m in after if after[m] != before[m]]
    assert len(changed) == 1 and "条目23（已更正）" in after[changed[0]]
    edits = server.calls_to("editMessageText")
    assert {c.status for c in edits} == {200}
    assert len(edits) == 2  # one message in each of the two chats
    assert len(server.calls_to("sendMessage")) == 2 * len(before)
    async with runtime.sessions() as session:
        assert await corrections_sent(session, [(await summary_of(runtime)).id]) == {
            (await summary_of(runtime)).id: 2
        }
    summary = await summary_of(runtime)
    assert summary.published_hash == summary.content_hash  # readers have the edit

    await push(runtime, server)  # nothing left: no call repeated
    assert len(server.calls_to("editMessageText")) == 2


async def test_an_edit_needing_more_messages_is_sent_as_a_short_correction(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(["芯片发布"]))
    await published_and_sent(runtime, cycle, clock, server)
    [(first_id, first_text)] = texts(server, 1002).items()

    grown = ["芯片发布", *(f"新增条目{i}" for i in range(24))]
    await edit(cycle, clock, desk, issue_text(grown, long=True), utc(11, 2, 5))
    await push(runtime, server)

    assert len(server.calls_to("editMessageText")) == 0
    zh, en = texts(server, 1001), texts(server, 1002)
    assert len(zh) == len(en) == 2  # the issue, then one correction each
    assert en[first_id] == first_text  # the sent message is left as it was
    correction_en = en[max(en)]
    assert correction_en.startswith("Correction:") and "新增条目0" in correction_en
    assert "新增条目0" not in first_text
    assert texts(server, 1001)[max(zh)].startswith("更正：")


async def test_an_edit_after_the_window_only_changes_the_archive(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(["芯片发布"]))
    await published_and_sent(runtime, cycle, clock, server)
    await edit(cycle, clock, desk, issue_text(["芯片发布（改）"]), utc(11, 4, 3))  # 49 h later
    await push(runtime, server)

    assert len(server.calls_to("editMessageText")) == 0
    assert len(server.calls_to("sendMessage")) == 2
    summary = await summary_of(runtime)
    assert summary.published_hash != summary.content_hash  # the archive has the edit
    async with runtime.sessions() as session:
        assert list(await session.scalars(select(CorrectionRow.id))) == []


async def test_corrections_switched_off_only_change_the_archive(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(
        engine, tmp_path, issue_text(["芯片发布"]), corrections=False
    )
    await published_and_sent(runtime, cycle, clock, server)
    await edit(cycle, clock, desk, issue_text(["芯片发布（改）"]), utc(11, 2, 5))
    await push(runtime, server)

    assert len(server.calls_to("editMessageText")) == 0
    assert len(server.calls_to("sendMessage")) == 2


class Dies:
    """The real sender until it has made `edits` edits; then the process 'dies' at the
    next call: its task is killed mid-send, its claim left behind as a kill leaves it."""

    platform = "telegram"

    def __init__(self, sender: TelegramSender, edits: int) -> None:
        self._sender = sender
        self._left = edits
        self.stuck = asyncio.Event()

    def chat_kind(self, chat_id: str) -> str:
        return self._sender.chat_kind(chat_id)

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> str | None:
        if self._left == 0:
            self.stuck.set()
            raise asyncio.CancelledError  # not an error the courier could handle
        self._left -= 1
        return await self._sender.send(chat_id, message)


async def test_a_crash_in_the_middle_of_a_correction_resends_nothing_already_done(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    titles = [f"条目{i}" for i in range(24)]
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(titles, long=True))
    await published_and_sent(runtime, cycle, clock, server)
    before = texts(server, 1001)
    # Every message of both chats changes: four edits, the crash after the first.
    fixed = [f"{t}（更正）" for t in titles]
    await edit(cycle, clock, desk, issue_text(fixed, long=True), utc(11, 2, 5))

    one_worker = runtime.settings.model_copy(deep=True)
    one_worker.delivery.workers = 1  # one slot: exactly one edit in flight at the crash
    crashed = Runtime(
        one_worker, runtime.engine, runtime.sessions, runtime.series, runtime.taxonomy
    )
    async with TelegramSender.open(server.token, server.base_url, read_timeout=2) as sender:
        dies = Dies(sender, edits=1)
        await asyncio.wait_for(drain(crashed, {"telegram": dies}, tuning=FAST), 10)
    assert dies.stuck.is_set()
    assert len(server.calls_to("editMessageText")) == 1

    await asyncio.sleep(FAST.stale_after + 0.1)  # the dead run's claims go stale
    await push(runtime, server)

    edited = [
        (c.params["chat_id"], c.params["message_id"]) for c in server.calls_to("editMessageText")
    ]
    assert len(edited) == len(set(edited)) == 2 * len(before)  # each message edited once
    assert all("（更正）" in text for text in texts(server, 1001).values())


async def test_a_dry_run_says_what_would_be_corrected_and_writes_nothing(
    engine: AsyncEngine,
    tmp_path: Path,
    telegram_server_factory: ServerFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(
        engine, tmp_path, issue_text(["芯片发布", "融资"]), corrections=False
    )
    await published_and_sent(runtime, cycle, clock, server)
    desk.write(issue_text(["芯片发布（更正）", "融资"]))
    await tick(cycle, clock, utc(11, 2, 5))  # archived; corrections off, so nothing goes
    summary = await summary_of(runtime)
    changed = ChangedIssue(
        summary.id, summary.key, summary.published_hash or "", summary.content_hash
    )

    plan = await Corrector(runtime, clock).correct(changed, clock.now(), dry_run=True)

    assert plan is not None and (plan.edits, plan.messages, plan.operations) == (2, 0, 2)
    assert [(c.title, c.link_or_title) for c in plan.changes] == [("芯片发布（更正）", True)]
    assert (await summary_of(runtime)).published_hash == summary.published_hash
    async with runtime.sessions() as session:
        assert list(await session.scalars(select(CorrectionRow.id))) == []

    # `briefbot issues` counts corrections sent: none yet.
    parser = argparse.ArgumentParser()
    archive.register(parser.add_subparsers())
    args = parser.parse_args(["issues"])
    assert await args.handler(args, runtime) == 0
    assert "correction" not in capsys.readouterr().out


async def test_briefbot_issues_counts_the_corrections_sent(
    engine: AsyncEngine,
    tmp_path: Path,
    telegram_server_factory: ServerFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(["芯片发布"]))
    await published_and_sent(runtime, cycle, clock, server)
    await edit(cycle, clock, desk, issue_text(["芯片发布（更正）"]), utc(11, 2, 5))
    await push(runtime, server)
    assert len(server.calls_to("editMessageText")) == 2

    parser = argparse.ArgumentParser()
    archive.register(parser.add_subparsers())
    args = parser.parse_args(["issues", "--json"])
    assert await args.handler(args, runtime) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["corrections_sent"] == 2
    args = parser.parse_args(["issues"])
    assert await args.handler(args, runtime) == 0
    assert "2 correction(s) sent" in capsys.readouterr().out


async def test_a_second_edit_supersedes_the_pending_correction_of_the_first(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    runtime, cycle, clock, desk = await setup(engine, tmp_path, issue_text(["芯片发布"]))
    await published_and_sent(runtime, cycle, clock, server)
    await edit(cycle, clock, desk, issue_text(["芯片发布（一改）"]), utc(11, 2, 5))
    async with runtime.sessions() as session:
        first = {r.id: r.attempts for r in await session.scalars(select(CorrectionRow))}
    assert len(first) == 2  # pending, not sent yet
    await edit(cycle, clock, desk, issue_text(["芯片发布（二改）"]), utc(11, 2, 7))
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(CorrectionRow)))
    # The same rows, rewritten: a claim of the first edit's work can no longer checkpoint.
    assert {r.id: r.attempts for r in rows} == {id_: n + 1 for id_, n in first.items()}
    await push(runtime, server)

    edits = server.calls_to("editMessageText")
    assert len(edits) == 2  # one per chat: the second edit's text only
    assert all("二改" in c.params["text"] for c in edits)
    assert all("二改" in text for text in texts(server, 1001).values())


async def test_message_ids_are_read_once_per_batch_of_chats(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    """`delivered` reads the message ids of a whole batch in one query, not one per chat
    (an issue sent to 10 000 chats is read in 20 batches of three queries each)."""
    server = await telegram_server_factory()
    runtime, cycle, clock, _ = await setup(engine, tmp_path, issue_text(["芯片发布"]))
    for chat in range(2001, 2006):
        await add_subscriber(runtime, f"telegram:{chat}")
    await published_and_sent(runtime, cycle, clock, server)
    issue_id = (await summary_of(runtime)).id
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    async def batches(size: int) -> list[list[Delivered]]:
        found, last = [], 0
        async with runtime.sessions() as session:
            while batch := await delivered(session, issue_id, last, size):
                found.append(batch)
                last = batch[-1].delivery_id
        return found

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        [whole] = await batches(500)
        in_pages = await batches(3)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    reading_ids = [s for s in statements if "FROM sent_messages" in s]
    # one per batch: the whole, then pages of 3, 3 and 1 (an empty last page reads none)
    assert len(whole) == 7 and [len(b) for b in in_pages] == [3, 3, 1]
    assert len(reading_ids) == 1 + 3
    async with runtime.sessions() as session:
        for chat in whole:
            assert chat.message_ids == await sent_message_ids(session, chat.delivery_id)
            assert len(chat.message_ids) == 1
    assert [c.message_ids for b in in_pages for c in b] == [c.message_ids for c in whole]
