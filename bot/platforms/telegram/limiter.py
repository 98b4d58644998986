"""Command replies, button answers and admin alerts through the delivery engine's Gate.

python-telegram-bot calls a `BaseRateLimiter` around every request of an `ExtBot`
(`ApplicationBuilder().rate_limiter(...)`). `GateLimiter` makes each message the bot
sends or edits take the same tokens as the engine's pushes: the chat's turn and token,
then a global token ahead of any waiting push (`priority`: someone is waiting for this
answer). So a push and a crowd of users typing /latest together stay inside Telegram's
limits, and a reply waits at most about one token of the chat's (1 s) and its place
among other replies, never behind the push.

The engine's own sends take their tokens before calling the bot (bot/delivery/courier.py)
and say so with `rate_limit_args=GATED` (`TelegramSender(bot, gated=True)`): they pass
straight through instead of paying twice. The engine keeps its gating, rather than
leaving it to this hook, because it orders a chat's messages, holds a sending slot per
message and handles flood control per delivery, for every platform alike.

On a 429 the shared pause is extended (pushes stop too: the bot as a whole is flooding)
and the request is retried after it, up to `max_retries` times, unless Telegram asks
for a wait longer than `max_wait`: then the user is better served by the error reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.ratelimit import Gate
from bot.platforms.telegram.sender import GATED, chat_kind, retry_seconds

log = logging.getLogger(__name__)

# Calls that put or change a message in a chat: what Telegram's message limits count.
# Lower-case: Bot API method names are case-insensitive (the engine sends "sendmessage").
MESSAGE_ENDPOINTS: Final = frozenset(
    name.lower()
    for name in (
        "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendMediaGroup", "sendSticker", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendInvoice", "sendPaidMedia",
        "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
        "editMessageText", "editMessageCaption", "editMessageMedia",
        "editMessageReplyMarkup", "editMessageLiveLocation", "stopPoll",
    )
)  # fmt: skip
# Not a message (Telegram counts messages), so it takes no token; a flood pause still
# holds it, and a 429 on it is retried like any other.
PAUSED_ONLY: Final = frozenset({"answercallbackquery"})

Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


class GateLimiter(BaseRateLimiter[str]):
    """PTB's rate-limiter hook on a shared `Gate` (one per bot token and process)."""

    def __init__(
        self,
        gate: Gate,
        *,
        retry_margin: float = 1.0,
        max_retries: int = 2,
        max_wait: float = 10.0,
    ) -> None:
        self._gate = gate
        self._margin = retry_margin
        self._max_retries = max_retries
        self._max_wait = max_wait

    @property
    def gate(self) -> Gate:
        return self._gate

    async def initialize(self) -> None:
        """Nothing to set up: the Gate belongs to whoever built it."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | JSONDict | list[JSONDict]:
        name = endpoint.lower()
        chat_id = data.get("chat_id")
        if rate_limit_args == GATED:
            return await callback(*args, **kwargs)
        if name in MESSAGE_ENDPOINTS and chat_id is not None:
            chat: str | None = str(chat_id)
        elif name in PAUSED_ONLY:
            chat = None
        else:  # getMe, setMyCommands, sendChatAction...: outside the message limits
            return await callback(*args, **kwargs)
        for attempt in range(self._max_retries + 1):
            try:
                return await self._once(chat, callback, args, kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                self._gate.pause.extend(wait + self._margin)
                if attempt == self._max_retries or wait > self._max_wait:
                    raise
                log.info("telegram flood control on %s: retrying after %.0fs", endpoint, wait)
        raise AssertionError("unreachable")

    async def _once(
        self, chat: str | None, callback: Callback, args: Any, kwargs: dict[str, Any]
    ) -> bool | JSONDict | list[JSONDict]:
        if chat is None:
            await self._gate.pause.wait()
            return await callback(*args, **kwargs)
        async with self._gate.chats.turn(chat, chat_kind(chat)):
            await self._gate.ready(priority=True)
            return await callback(*args, **kwargs)
