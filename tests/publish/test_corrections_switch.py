"""Admins switch corrections off and on from the chat (issue 14): while off, an edit of a
published issue only updates the archive (the corrector writes and sends nothing, the
preview says why); switched back on, the edit still in the window is corrected.

On a real corrector over an issue sent through the local Bot API server, then end to end:
the admin flips the switch on the running Telegram adapter, and readers' chats follow.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import archive
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.publish.corrections import Corrector
from storage.corrections import ChangedIssue
from storage.models import CorrectionRow
from tests.bot.telegram.harness import Harness
from tests.fakes.telegram_fixtures import telegram_server_factory_fixture
from tests.publish.helpers import KEY, summary_of, utc
from tests.publish.test_correction_preview import ADMIN, Scene, scene_factory
from tests.publish.test_corrections import push, texts, tick

__all__ = ["scene_factory", "telegram_server_factory_fixture"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FIXED = ["芯片发布（更正）", "融资"]


async def settle(scene: Scene, hour: int) -> None:
    """The edit settles and the cycle's corrector runs; the engine sends what it wrote."""
    await tick(scene.cycle, scene.clock, utc(11, 2, hour))
    await push(scene.runtime, scene.server)


async def test_the_corrector_sends_nothing_while_off_and_resumes_when_on(
    scene_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = await scene_factory()
    before = texts(scene.server, 1001)
    assert (await scene.ask("/corrections 关")).startswith("已关闭更正")
    await scene.edit(FIXED)
    await settle(scene, 6)
    await settle(scene, 7)

    assert scene.reader_calls() == (2, 0)  # the two pushes, no edit, no correction message
    assert await scene.correction_rows() == []
    summary = await summary_of(scene.runtime)
    assert summary.published_hash != summary.content_hash  # the edit waits in the archive
    assert await scene.ask("/preview 更正") == (
        f"{KEY} 这一期推送后被修改了，但更正已被管理员在聊天中关闭：修改只更新存档，"
        "重新开启后才会更正。"
    )
    assert await scene.ask("/preview correction", "en") == (
        f"Issue {KEY} was edited after publication, but corrections were switched off in "
        "the chat by an admin: the edit only updates the archive until they are on again."
    )
    # Asked directly (a run that looked before the switch was flipped): nothing written.
    changed = ChangedIssue(
        summary.id, summary.key, summary.published_hash or "", summary.content_hash
    )
    assert await Corrector(scene.runtime, scene.clock).correct(changed, utc(11, 2, 7)) is None
    assert await scene.correction_rows() == []
    assert (await summary_of(scene.runtime)).published_hash == summary.published_hash

    # The operator's `briefbot corrections` says why it queues nothing.
    parser = argparse.ArgumentParser()
    archive.register(parser.add_subparsers())
    args = parser.parse_args(["corrections", "latest"])
    assert await args.handler(args, scene.runtime) == 0
    assert "an admin switched corrections off in the chat" in capsys.readouterr().out
    assert await scene.correction_rows() == []

    assert (await scene.ask("/corrections on", "en")).startswith("Corrections switched on")
    await settle(scene, 8)

    after = texts(scene.server, 1001)
    assert set(after) == set(before) and "芯片发布（更正）" in next(iter(after.values()))
    assert scene.reader_calls() == (2, 2)  # each chat's message edited in place, once
    summary = await summary_of(scene.runtime)
    assert summary.published_hash == summary.content_hash
    await settle(scene, 9)
    assert scene.reader_calls() == (2, 2)


async def test_an_admin_switches_corrections_on_telegram_and_readers_follow(
    scene_factory: Any,
) -> None:
    """End to end: the running adapter on the local Bot API server takes the switch."""
    scene = await scene_factory()
    readers = {chat: texts(scene.server, chat) for chat in (1001, 1002)}
    async with TelegramPlatform(scene.runtime, scene.core, poll_timeout=1.0) as platform:
        harness = Harness(scene.server, scene.runtime, platform)
        [off] = await harness.say(ADMIN, "/corrections off", language_code="en")
        [refused] = await harness.say(1003, "/corrections on")
        [state] = await harness.say(ADMIN, "/corrections")
        await scene.edit(FIXED)
        await settle(scene, 6)
        assert scene.server.calls_to("editMessageText") == []
        assert {chat: texts(scene.server, chat) for chat in readers} == readers
        [on] = await harness.say(ADMIN, "/corrections 开")
        await settle(scene, 7)
    assert off.visible_text.startswith("Corrections switched off: later edits only update")
    assert refused.visible_text == "抱歉，这个命令仅限管理员使用。"
    assert state.visible_text.startswith("更正已被管理员在聊天中关闭（")
    assert state.visible_text.endswith("）：修改只更新存档。开启：/corrections 开")
    assert on.visible_text.startswith("已开启更正：推送后 48 小时内的修改会更正读者收到的消息。")
    edits = scene.server.calls_to("editMessageText")
    assert sorted(str(c.params["chat_id"]) for c in edits) == ["1001", "1002"]
    assert all("芯片发布（更正）" in c.params["text"] for c in edits)


async def statuses(scene: Scene) -> list[tuple[str, str | None]]:
    async with scene.runtime.sessions() as session:
        rows = await session.execute(select(CorrectionRow.status, CorrectionRow.last_error))
        return sorted(tuple(row) for row in rows)


async def queued_then_switched_off(scene: Scene) -> None:
    """The edit is corrected (two edits in place queued), then corrections are switched
    off before the engine sends them."""
    await scene.edit(FIXED)
    await tick(scene.cycle, scene.clock, utc(11, 2, 6))  # settled: the corrector queues
    assert await statuses(scene) == [("pending", None)] * 2
    assert (await scene.ask("/corrections off", "en")).startswith("Corrections switched off")


async def test_queued_corrections_wait_while_off_and_go_out_when_on_within_the_window(
    scene_factory: Any,
) -> None:
    """The real engine (a drain) on the local Bot API server holds what was queued."""
    scene = await scene_factory()
    await queued_then_switched_off(scene)
    await push(scene.runtime, scene.server)
    await push(scene.runtime, scene.server)
    assert scene.reader_calls() == (2, 0)  # nothing claimed: held, not sent
    assert await statuses(scene) == [("pending", None)] * 2

    scene.clock.set(utc(11, 4, 1))  # 47 hours after publication (02:00): within the 48
    assert (await scene.ask("/corrections 开")).startswith("已开启更正")
    await push(scene.runtime, scene.server)
    assert scene.reader_calls() == (2, 2)  # each chat's message edited in place, once
    assert await statuses(scene) == [("sent", None)] * 2
    assert all(
        "芯片发布（更正）" in c.params["text"] for c in scene.server.calls_to("editMessageText")
    )


async def test_queued_corrections_past_the_window_when_switched_on_are_dropped(
    scene_factory: Any,
) -> None:
    scene = await scene_factory()
    await queued_then_switched_off(scene)
    await push(scene.runtime, scene.server)
    scene.clock.set(utc(11, 4, 3))  # 49 hours after publication (02:00): past the 48
    assert (await scene.ask("/corrections on", "en")).startswith("Corrections switched on")
    await push(scene.runtime, scene.server)
    await tick(scene.cycle, scene.clock, utc(11, 4, 4))  # nor does the corrector retry
    await push(scene.runtime, scene.server)
    assert scene.reader_calls() == (2, 0)
    assert await statuses(scene) == [("dropped", "expired while corrections were off")] * 2


async def test_queued_corrections_wait_while_the_configuration_says_off(
    scene_factory: Any,
) -> None:
    """`publish.corrections = false` holds them too (a hard off has no moment it was
    lifted: they go out when the configuration is on again)."""
    scene = await scene_factory()
    await scene.edit(FIXED)
    await tick(scene.cycle, scene.clock, utc(11, 2, 6))
    settings = scene.runtime.settings
    publish = settings.publish.model_copy(update={"corrections": False})
    hard_off = replace(scene.runtime, settings=settings.model_copy(update={"publish": publish}))
    await push(hard_off, scene.server)
    assert scene.reader_calls() == (2, 0)
    assert await statuses(scene) == [("pending", None)] * 2
    await push(scene.runtime, scene.server)
    assert scene.reader_calls() == (2, 2)
