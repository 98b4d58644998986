"""Telegram sender: python-telegram-bot's `Bot` on the aiohttp transport, errors classified.

HTTPX spends ~5 ms of CPU per call where the aiohttp `BaseRequest` (bot/transport.py)
spends ~0.7 ms, which is what lets one process push over a thousand messages a second.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.config import TelegramSettings
from bot.delivery import types
from bot.platforms.telegram.transport import AiohttpRequest

# 400 answers that mean the chat cannot be written to at all (the rest refuse the message).
GONE_REASONS = (
    "chat not found",
    "peer_id_invalid",
    "user not found",
    "group chat was deactivated",
    "user is deactivated",
)
# Bot API method names are case-insensitive. Spelled so, do_api_request hands back the raw
# result instead of building a telegram.Message: half the client CPU of a send.
SEND_MESSAGE = "sendmessage"
EDIT_MESSAGE = "editmessagetext"
# A correction's edit whose text is already the new one (a repeat after a crash): done.
NOT_MODIFIED = "message is not modified"
# LinkPreviewOptions, JSON-encoded once rather than on every send.
PREVIEW_OFF = json.dumps(LinkPreviewOptions(is_disabled=True).to_dict())
PREVIEW_ON = json.dumps(LinkPreviewOptions(is_disabled=False).to_dict())
# rate_limit_args of the engine's sends: their tokens are taken (see limiter.py).
GATED = "gated-by-the-delivery-engine"


class TelegramSender:
    platform = "telegram"

    def __init__(self, bot: Bot, *, gated: bool = False) -> None:
        """`gated`: the caller (the delivery engine) takes each send's tokens from the Gate
        that the bot's rate limiter uses too (bot/platforms/telegram/limiter.py), so the
        send bypasses that limiter instead of paying twice. Everyone else (admin alerts)
        leaves it False and goes through the limiter."""
        self._bot = bot
        limited = isinstance(bot, ExtBot) and bot.rate_limiter is not None
        self._extra: dict[str, Any] = {"rate_limit_args": GATED} if gated and limited else {}

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        token: str,
        base_url: str = "https://api.telegram.org/bot",
        *,
        connection_pool: int = 64,
        read_timeout: float = 10.0,
    ) -> AsyncIterator[TelegramSender]:
        """A sender with its own connection pool, closed on exit."""
        request = AiohttpRequest(connection_pool_size=connection_pool, read_timeout=read_timeout)
        bot = Bot(token, base_url=base_url, request=request)
        await request.initialize()
        try:
            yield cls(bot)
        finally:
            await request.shutdown()

    @classmethod
    def from_settings(
        cls, settings: TelegramSettings
    ) -> AbstractAsyncContextManager[TelegramSender]:
        """`async with TelegramSender.from_settings(settings.telegram) as sender: ...`"""
        if settings.token is None:
            raise ValueError("telegram.token is not set")
        return cls.open(
            settings.token.get_secret_value(),
            settings.base_url,
            connection_pool=settings.connection_pool,
        )

    def chat_kind(self, chat_id: str) -> str:
        return chat_kind(chat_id)

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> str | None:
        html = message.get("format", "html") == "html"
        preview = PREVIEW_OFF if message.get("disable_preview", False) else PREVIEW_ON
        parameters: dict[str, Any] = {
            "chat_id": chat_id,
            "text": message["text"],
            "link_preview_options": preview,
        }
        if html:
            parameters["parse_mode"] = ParseMode.HTML
        edit = message.get("edit_message_id")
        if edit is not None:  # a correction: the message sent earlier, edited in place
            parameters["message_id"] = int(edit)
        method = SEND_MESSAGE if edit is None else EDIT_MESSAGE
        try:
            sent = await self._bot.do_api_request(method, api_kwargs=parameters, **self._extra)
        except BadRequest as exc:
            if edit is not None and NOT_MODIFIED in exc.message.lower():
                return str(edit)
            raise classify(exc) from exc
        except TelegramError as exc:
            raise classify(exc) from exc
        return str(edit) if edit is not None else message_id_of(sent)


def message_id_of(result: object) -> str | None:
    """The `message_id` of a raw `Message` result, as the ledger stores it (a string)."""
    if isinstance(result, Mapping) and result.get("message_id") is not None:
        return str(result["message_id"])
    return None


def chat_kind(chat_id: str) -> str:
    if chat_id.startswith("@"):
        return "channel"
    return "group" if chat_id.startswith("-") else "private"


def classify(exc: TelegramError) -> types.SendError:
    """The engine's view of a python-telegram-bot error."""
    if isinstance(exc, RetryAfter):
        return types.RetryAfter(retry_seconds(exc), str(exc))
    if isinstance(exc, ChatMigrated):
        return types.ChatMigrated(str(exc.new_chat_id), str(exc))
    if isinstance(exc, Forbidden):
        return types.ChatGone(exc.message)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        if any(reason in exc.message.lower() for reason in GONE_REASONS):
            return types.ChatGone(exc.message)
        return types.Permanent(exc.message)
    if isinstance(exc, InvalidToken):  # every send fails alike: the error burst pauses
        return types.Transient(f"invalid token: {exc.message}")
    if isinstance(exc, NetworkError):  # TimedOut, 5xx, connection errors
        return types.Transient(exc.message or type(exc).__name__)
    return types.Transient(f"{type(exc).__name__}: {exc.message}")


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int today, timedelta once PTB_TIMEDELTA is the default
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
