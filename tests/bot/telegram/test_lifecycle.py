"""Start-up (command menus), failures, flood control, ordering and shutdown."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import InvalidToken

from bot.commands import Core, CoreDeps
from bot.config import TelegramSettings
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.platforms.telegram.sender import TelegramSender
from tests.bot.telegram.conftest import HarnessFactory, make_runtime
from tests.bot.telegram.harness import ADMIN_ID, Harness, visible
from tests.fakes.telegram_limits import RateLimits
from tests.fakes.telegram_server import FakeTelegramServer

USER = 6006


async def test_command_menus_are_set_in_english_and_chinese(harness: Harness) -> None:
    core = harness.platform.core
    english = harness.server.commands()  # the default: every non-Chinese client
    chinese = harness.server.commands(language_code="zh")
    assert english == [{"command": c, "description": d} for c, d in core.command_menu("en")]
    assert chinese == [{"command": c, "description": d} for c, d in core.command_menu("zh")]
    assert {"command": "latest", "description": "最新一期（可指定栏目或标签）"} in chinese
    names = [c["command"] for c in english]
    assert names[:3] == ["start", "help", "latest"] and "publish" not in names
    assert harness.platform.core.deps.bot_username == "briefbot_test_bot"  # from getMe


async def test_a_failed_send_gets_an_apology_and_the_bot_keeps_serving(
    harness: Harness,
) -> None:
    harness.expect_refusals = True
    harness.server.inject_fault("sendMessage", "500", chat_id=USER)
    [apology] = await harness.say(USER, "/help")
    assert apology.visible_text == "抱歉，处理时出了点问题，请稍后再试。"
    assert [c.status for c in harness.refused()] == [500]
    [help_] = await harness.say(USER, "/help")
    assert help_.visible_text.startswith("命令与示例：")


async def test_a_blocked_user_gets_no_apology(harness: Harness) -> None:
    harness.expect_refusals = True
    harness.server.inject_message(USER, "/start")  # the chat exists, then the user blocks
    harness.server.block(USER)
    await harness.settle()
    refused = harness.refused()
    assert [(c.method, c.status) for c in refused] == [("sendMessage", 403)]
    assert harness.server.messages_in(USER) == []


# PTB's own RetryAfter constructor warns about its future timedelta type.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_waited_out(harness_factory: HarnessFactory) -> None:
    limits = RateLimits(private_per_second=1.0, private_burst=1)
    harness = await harness_factory(rate_limits=limits)
    harness.expect_refusals = True
    harness.server.inject_message(USER, "/help", language_code="zh")
    harness.server.inject_message(USER, "/issues", language_code="zh")
    await harness.settle()
    help_, issues = harness.server.messages_in(USER)
    assert help_.visible_text.startswith("命令与示例：")
    assert "2026-11-16" in issues.visible_text and "2026-11-02" in issues.visible_text
    assert {(c.method, c.status) for c in harness.refused()} == {("sendMessage", 429)}


async def test_one_chats_updates_are_answered_in_order(harness: Harness) -> None:
    for text in ("/settings lang en", "/help", "/settings lang zh", "/help"):
        harness.server.inject_message(USER, text, language_code="zh")
    other = harness.server.inject_message(USER + 1, "/help", language_code="en")
    await harness.settle()
    replies = [m.visible_text for m in harness.server.messages_in(USER)]
    assert "Language: English" in replies[0]
    assert replies[1].startswith("Commands with examples:")
    assert "语言：中文" in replies[2]
    assert replies[3].startswith("命令与示例：")
    assert other["message"]["chat"]["id"] == USER + 1
    assert visible(harness.server.messages_in(USER + 1)).startswith("Commands with examples:")


async def test_admins_are_recognised_by_user_id(harness: Harness) -> None:
    [stats] = await harness.say(ADMIN_ID, "/stats")
    assert "按平台" in stats.visible_text
    [refused] = await harness.say(USER, "/stats")
    assert refused.visible_text == "抱歉，这个命令仅限管理员使用。"


async def test_stats_sends_admins_the_operator_charts_as_pictures(harness: Harness) -> None:
    """Subscribers over time, deliveries per issue, send rate: PNGs after the text."""
    await harness.say(ADMIN_ID, "/stats")
    photos = [p for p in harness.server.state.photos if p.chat_id == ADMIN_ID]
    assert len(photos) == 3
    assert all(p.data.startswith(b"\x89PNG\r\n\x1a\n") and len(p.data) > 2000 for p in photos)
    assert len({p.data for p in photos}) == 3  # three different charts
    await harness.say(USER, "/stats")
    assert not [p for p in harness.server.state.photos if p.chat_id == USER]


async def test_the_bot_serves_the_delivery_engine_too(harness: Harness) -> None:
    sender = TelegramSender(harness.platform.bot)
    await sender.send(str(USER), {"text": "<b>推送</b>", "format": "html"})
    [push] = harness.server.messages_in(USER)
    assert push.visible_text == "推送" and push.entities[0]["type"] == "bold"


async def test_stop_ends_polling_and_finishes_cleanly(harness: Harness) -> None:
    await harness.say(USER, "/help")
    await harness.platform.stop()
    assert not harness.platform.application.running
    polls = len(harness.server.calls_to("getUpdates"))
    harness.server.inject_message(USER, "/latest")
    await asyncio.sleep(0.3)
    assert len(harness.server.calls_to("getUpdates")) == polls  # nobody polls any more
    assert len(harness.server.messages_in(USER)) == 1
    # The last poll, without waiting, confirmed every fetched update to Telegram.
    last = harness.server.calls_to("getUpdates")[-1]
    assert (last.params["timeout"], last.status) == ("0", 200)
    assert harness.server.pending_updates[0]["message"]["text"] == "/latest"
    await harness.platform.stop()  # idempotent: the fixture stops it again


async def test_a_wrong_token_fails_start_and_leaves_nothing_open(
    telegram_server: FakeTelegramServer, engine: AsyncEngine
) -> None:
    settings = TelegramSettings(token="42:WrongToken", base_url=telegram_server.base_url)
    runtime = make_runtime(engine, settings)
    platform = TelegramPlatform(runtime, Core(CoreDeps.from_runtime(runtime)))
    with pytest.raises(InvalidToken):
        async with platform:
            pytest.fail("started with a token the server refuses")
    assert not platform.application.running
    assert telegram_server.calls == []  # the fake only records well-addressed requests
    await platform.stop()
