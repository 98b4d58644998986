"""Sending the core's `Reply`s to a Telegram chat: HTML, previews, inline keyboards, edits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.commands import Button, Reply
from bot.platforms.telegram.sender import retry_seconds
from bot.platforms.telegram.updates import Where
from formatters import Message

log = logging.getLogger(__name__)

T = TypeVar("T")
# An interactive answer waits out a short flood-control pause; a long one means the bot is
# flooding and the user is better served by the error reply than by a minute of silence.
MAX_RETRY_WAIT = 10.0
MAX_ATTEMPTS = 3
NOT_MODIFIED = "message is not modified"


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows]
    )


def _fields(message: Message, markup: InlineKeyboardMarkup | None) -> dict[str, Any]:
    return {
        "text": message.text,
        "parse_mode": ParseMode.HTML if message.format == "html" else None,
        "link_preview_options": LinkPreviewOptions(is_disabled=message.disable_preview),
        "reply_markup": markup,
    }


async def with_retry(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, again after a short 429 pause (Telegram: "retry after N")."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            if attempt == MAX_ATTEMPTS or wait > MAX_RETRY_WAIT:
                raise
            log.info("telegram flood control: retrying in %.0fs", wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def retrying(bot: Bot) -> Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]:
    """`with_retry`, unless the bot's rate limiter already retries after flood control."""
    if getattr(bot, "rate_limiter", None) is not None:
        return _once
    return with_retry


async def _once(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


class ReplySender:
    """Sends one update's replies in order; the first `edit` reply may replace the
    pressed message, everything else is a new message."""

    def __init__(self, bot: Bot, where: Where) -> None:
        self._bot = bot
        self._where = where
        self._editable = where.pressed_message_id
        self._retry = retrying(bot)

    async def send_all(self, replies: Sequence[Reply]) -> None:
        for reply in replies:
            await self.send(reply)

    async def send(self, reply: Reply) -> None:
        messages = list(reply.messages)
        for index, message in enumerate(messages):
            last = index == len(messages) - 1
            markup = keyboard(reply.buttons) if last else None
            if index == 0 and reply.edit and await self._edit(message, markup):
                continue
            await self._send(message, markup)
        for image in reply.images:
            await self._retry(
                lambda image=image: self._bot.send_photo(  # type: ignore[misc]
                    chat_id=self._where.chat_id,
                    message_thread_id=self._where.thread_id,
                    photo=image,
                )
            )

    async def _send(self, message: Message, markup: InlineKeyboardMarkup | None) -> None:
        where = self._where
        await self._retry(
            lambda: self._bot.send_message(
                chat_id=where.chat_id,
                message_thread_id=where.thread_id,
                **_fields(message, markup),
            )
        )

    async def _edit(self, message: Message, markup: InlineKeyboardMarkup | None) -> bool:
        """Replace the pressed message (once per update); False: send a new one instead."""
        message_id, self._editable = self._editable, None
        if message_id is None:
            return False
        try:
            await self._retry(
                lambda: self._bot.edit_message_text(
                    chat_id=self._where.chat_id, message_id=message_id, **_fields(message, markup)
                )
            )
        except BadRequest as exc:
            if NOT_MODIFIED in exc.message.lower():
                return True  # a double press: the message already shows this
            log.info("cannot edit message %s (%s); sending a new one", message_id, exc.message)
            return False
        return True
