"""python-telegram-bot errors mapped to the engine's classes; what the sender puts on the wire."""

from __future__ import annotations

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery import types
from bot.platforms.telegram.sender import TelegramSender, classify
from tests.fakes.telegram_fixtures import ServerFactory
from tests.fakes.telegram_limits import RateLimits


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_flood_control_and_migration_keep_their_parameters() -> None:
    flood = classify(RetryAfter(7))
    assert isinstance(flood, types.RetryAfter) and flood.seconds == 7.0
    moved = classify(ChatMigrated(-100123))
    assert isinstance(moved, types.ChatMigrated) and moved.new_chat_id == "-100123"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), types.ChatGone),
        (Forbidden("Forbidden: bot was kicked from the group chat"), types.ChatGone),
        (BadRequest("Bad Request: chat not found"), types.ChatGone),
        (BadRequest("Bad Request: PEER_ID_INVALID"), types.ChatGone),
        (BadRequest("Bad Request: can't parse entities: unclosed tag"), types.Permanent),
        (BadRequest("Bad Request: message is too long"), types.Permanent),
        (TimedOut(), types.Transient),
        (NetworkError("Internal Server Error"), types.Transient),
        (NetworkError("Bad Gateway"), types.Transient),
        (InvalidToken("Unauthorized"), types.Transient),
        (Conflict("Conflict: terminated by other getUpdates request"), types.Transient),
        (TelegramError("something new"), types.Transient),
    ],
)
def test_errors_are_classified(error: TelegramError, expected: type[types.SendError]) -> None:
    classified = classify(error)
    assert type(classified) is expected
    assert str(classified)  # stored as the delivery's last error


def test_chat_kinds_select_the_limits() -> None:
    sender = TelegramSender(bot=None)  # type: ignore[arg-type]
    assert sender.chat_kind("42") == "private"
    assert sender.chat_kind("-5003") == "group" == sender.chat_kind("-1001234")
    assert sender.chat_kind("@briefing_channel") == "channel"


async def test_html_or_plain_text_with_the_message_preview_flag(
    telegram_server_factory: ServerFactory,
) -> None:
    server = await telegram_server_factory(rate_limits=RateLimits.off())
    async with TelegramSender.open(server.token, server.base_url) as sender:
        await sender.send("42", {"text": "<b>hi</b> https://e.com", "format": "html"})
        await sender.send("42", {"text": "a < b", "format": "text", "disable_preview": True})
        with pytest.raises(types.Permanent, match="parse entities"):
            await sender.send("42", {"text": "<b>unclosed", "format": "html"})
        server.block(42)
        with pytest.raises(types.ChatGone, match="blocked"):
            await sender.send("42", {"text": "again", "format": "html"})
    first, second = server.messages_in(42)
    assert (first.parse_mode, first.visible_text) == ("HTML", "hi https://e.com")
    assert first.link_preview_options == {"is_disabled": False}
    assert (second.parse_mode, second.visible_text) == (None, "a < b")
    assert second.link_preview_options == {"is_disabled": True}
