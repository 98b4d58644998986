"""Admins preview a correction before it goes out (issue 14): `/preview correction [KEY]`
says how many chats get edits in place, how many a correction message, and that
message's text, in the admin's language, and sends nothing.

On the command core (zh and en) with the real previewer over an issue published and
sent through the local Bot API server, then end to end: an admin asks the running
Telegram adapter, and readers' chats are left as they were.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.commands import Chat, Core, CoreDeps
from bot.config import PublishSettings, Settings, SourceSettings, TelegramSettings
from bot.platforms.console.adapter import run_console
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.publish.cycle import Cycle, build_cycle
from bot.runtime import Runtime
from storage.models import CorrectionRow
from tests.bot.commands.conftest import Client, text_of
from tests.bot.telegram.harness import Harness
from tests.fakes.telegram_fixtures import ServerFactory, telegram_server_factory_fixture
from tests.fakes.telegram_server import FakeTelegramServer
from tests.publish.helpers import KEY, add_subscriber, make_runtime, summary_of, utc
from tests.publish.test_corrections import Desk, issue_text, push, tick

__all__ = ["telegram_server_factory_fixture"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ADMIN = 777
SHORT = ["芯片发布", "融资"]
GROWN = [*SHORT, *(f"新增条目{i}" for i in range(24))]  # needs more messages than sent


class Scene:
    """An issue published and sent to two Telegram readers (zh, en), on a fake clock."""

    def __init__(
        self, runtime: Runtime, cycle: Cycle, clock: FixedClock, desk: Desk, server: Any
    ) -> None:
        self.runtime, self.cycle, self.clock, self.desk = runtime, cycle, clock, desk
        self.server: FakeTelegramServer = server
        deps = replace(CoreDeps.from_runtime(runtime), clock=clock.now)
        self.core = Core(deps)

    async def edit(self, titles: list[str], *, long: bool = False) -> None:
        """The curators edit the issue; the archive sees it (not settled yet)."""
        self.desk.write(issue_text(titles, long=long))
        await tick(self.cycle, self.clock, utc(11, 2, 5))

    async def ask(self, text: str, language: str = "zh-hans") -> str:
        admin = Client(self.core, Chat("telegram", str(ADMIN)), str(ADMIN), language, True)
        return text_of(await admin.send(text))

    def reader_calls(self) -> tuple[int, int]:
        return len(self.server.calls_to("sendMessage")), len(
            self.server.calls_to("editMessageText")
        )

    async def correction_rows(self) -> list[int]:
        async with self.runtime.sessions() as session:
            return list(await session.scalars(select(CorrectionRow.id)))


@pytest.fixture
async def scene_factory(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> AsyncIterator[Any]:
    async def build(**publish: Any) -> Scene:
        server = await telegram_server_factory()
        desk = Desk(tmp_path)
        settings = Settings(
            sources=[SourceSettings(kind="folder", path=str(desk.folder))],
            publish=PublishSettings(**publish),
            telegram=TelegramSettings(token=server.token, base_url=server.base_url, admins=[ADMIN]),
        )
        desk.write(issue_text(SHORT))
        runtime = make_runtime(engine, settings)
        await add_subscriber(runtime, "telegram:1001")
        await add_subscriber(runtime, "telegram:1002", language="en")
        clock = FixedClock(utc(10, 30))
        cycle = build_cycle(runtime, clock, cache_dir=tmp_path / "cache")
        await cycle.run_once()  # first seen days before its date
        await tick(cycle, clock, utc(11, 2, 2))  # due, settled: published
        await push(runtime, server)
        return Scene(runtime, cycle, clock, desk, server)

    yield build


async def test_an_edit_in_place_is_previewed_in_the_admins_language(scene_factory: Any) -> None:
    scene = await scene_factory()
    assert await scene.ask("/preview correction") == (
        f"读者收到的就是 {KEY} 这一期的当前内容：没有要更正的。"
    )
    await scene.edit(["芯片发布（更正）", "融资"])
    sent = scene.reader_calls()

    zh = await scene.ask("/preview 更正")
    title = f"嵌入式AI简报 ({KEY}) 测试"
    assert zh.splitlines() == [
        f"更正预演（不发送）：{title} [{KEY}]",
        # the edit was seen at 05:00 UTC; settle_minutes (30) later, in Asia/Shanghai
        "修改还没稳定：如果没有新的修改，2026-11-02T13:30+08:00 之后发出。",
        "2 个聊天的消息会被原地编辑，0 个聊天会收到一条更正消息（共 2 次编辑或发送）。",
        "改动的条目：",
        "• 芯片发布（更正）",
    ]
    en = await scene.ask(f"/preview correction {KEY}", "en")
    assert en.splitlines() == [
        f"Correction dry run (nothing sent): {title} [{KEY}]",
        "The edit has not settled yet: it goes out after 2026-11-02T13:30+08:00 "
        "unless edited again.",
        "2 chats would have their messages edited in place, 0 chats would get a correction "
        "message (2 edits or sends in all).",
        "Changed entries:",
        "• 芯片发布（更正）",
    ]
    # Nothing was written or sent: no correction row, readers untouched, hash unmoved.
    assert await scene.correction_rows() == []
    assert scene.reader_calls() == sent
    summary = await summary_of(scene.runtime)
    assert summary.published_hash != summary.content_hash

    scene.clock.set(utc(11, 2, 6))  # settled: the preview no longer says when
    assert "修改还没稳定" not in await scene.ask("/preview correction latest")


async def test_a_correction_message_is_previewed_with_its_text(scene_factory: Any) -> None:
    scene = await scene_factory()
    await scene.edit(GROWN, long=True)
    scene.clock.set(utc(11, 2, 6))

    zh = await scene.ask("/preview 更正")
    assert "0 个聊天的消息会被原地编辑，2 个聊天会收到一条更正消息（共 2 次编辑或发送）。" in zh
    message = zh.split("更正消息（每个聊天收到它自己语言的版本）：\n", 1)[1]
    assert message.startswith("更正：嵌入式AI简报")
    assert "• 新增条目0 https://example.com/2" in message
    # 24 new entries and 2 with new summaries: 10 listed
    assert message.endswith("• 新增条目7 https://example.com/9\n• … (+16)\n以上条目已更新。")

    en = await scene.ask("/preview correction", "en")
    assert "0 chats would have their messages edited in place, 2 chats would get a " in en
    message = en.split("The correction message (each chat gets it in its own language):\n")[1]
    assert message.startswith("Correction: 嵌入式AI简报")
    assert message.endswith("The entries above were updated.")
    assert await scene.correction_rows() == []


async def test_corrections_switched_off_are_said_in_the_preview_and_in_help(
    scene_factory: Any,
) -> None:
    off = await scene_factory(corrections=False)
    await off.edit(["芯片发布（更正）", "融资"])
    assert await off.ask("/preview correction") == (
        f"{KEY} 这一期推送后被修改了，但更正已关闭（配置 publish.corrections = false）："
        "修改只更新存档。"
    )
    assert await off.ask("/preview correction", "en") == (
        f"Issue {KEY} was edited after publication, but corrections are off "
        "(setting publish.corrections = false): the edit only updates the archive."
    )
    # /help tells admins the switch, and that it is off here
    assert "publish.corrections = false" in await off.ask("/help")
    assert "现在已关闭" in await off.ask("/help")
    assert "Now off." in await off.ask("/help", "en")


async def test_after_the_window_or_for_no_such_issue_nothing_is_corrected(
    scene_factory: Any,
) -> None:
    late = await scene_factory()
    await late.edit(["芯片发布（更正）", "融资"])
    late.clock.set(utc(11, 4, 3))  # 49 h after publication
    assert "已过了更正时限（推送后 48 小时）" in await late.ask("/preview 更正")
    assert "the corrections window (48 hours after publication) has passed" in (
        await late.ask("/preview correction", "en")
    )
    assert "现在已开启" in await late.ask("/help")
    assert await late.ask("/preview correction 2020-01-01") == "没有 2020-01-01 这一期。"
    assert await late.ask("/preview correction soon", "en") == (
        "Usage: /preview YYYY-MM-DD, /preview NUMBER or /preview latest (a push; with "
        "several series, the series first: /preview SERIES 51); /preview correction "
        "[YYYY-MM-DD|NUMBER] (the correction of a published issue, by default the newest "
        "published one; with several series, the series first: /preview correction "
        "SERIES 51)"
    )


async def test_an_admin_previews_a_correction_on_telegram_and_readers_see_nothing(
    scene_factory: Any,
) -> None:
    """End to end: the running adapter on the local Bot API server answers the admin."""
    scene = await scene_factory()
    await scene.edit(GROWN, long=True)
    scene.clock.set(utc(11, 2, 6))
    readers = {chat: list(scene.server.messages_in(chat)) for chat in (1001, 1002)}
    async with TelegramPlatform(scene.runtime, scene.core, poll_timeout=1.0) as platform:
        harness = Harness(scene.server, scene.runtime, platform)
        [zh] = await harness.say(ADMIN, "/preview 更正")
        [en] = await harness.say(ADMIN, "/preview correction", language_code="en")
        [refused] = await harness.say(1001, "/preview 更正")
    assert "2 个聊天会收到一条更正消息" in zh.visible_text
    assert "更正：嵌入式AI简报" in zh.visible_text and "• 新增条目0" in zh.visible_text
    assert "2 chats would get a correction message" in en.visible_text
    assert "Correction: 嵌入式AI简报" in en.visible_text
    assert refused.visible_text == "抱歉，这个命令仅限管理员使用。"
    assert {c: scene.server.messages_in(c)[: len(m)] for c, m in readers.items()} == readers
    assert len(scene.server.messages_in(1002)) == len(readers[1002])  # nothing new for readers
    assert scene.server.calls_to("editMessageText") == []
    assert await scene.correction_rows() == []


async def test_the_terminal_chat_previews_a_correction(scene_factory: Any) -> None:
    """`briefbot chat` is an admin's chat: the same preview, typed in the terminal."""
    scene = await scene_factory()
    await scene.edit(["芯片发布（更正）", "融资"])
    scene.clock.set(utc(11, 2, 6))
    out = io.StringIO()
    await run_console(scene.core, io.StringIO("/preview 更正\n"), out, interactive=False)
    assert "更正预演（不发送）" in out.getvalue()
    assert "2 个聊天的消息会被原地编辑" in out.getvalue()
    out = io.StringIO()
    await run_console(scene.core, io.StringIO("/preview correction\n"), out, language_code="en")
    assert "2 chats would have their messages edited in place" in out.getvalue()
    assert await scene.correction_rows() == []
