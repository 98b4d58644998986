"""Everything the fake Bot API remembers, shared by its method handlers and test helpers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_chats import ChatInfo, ChatRegistry
from tests.fakes.telegram_inject import FakeUser
from tests.fakes.telegram_limits import RateLimiter
from tests.fakes.telegram_messages import HtmlValidator, MessageLog, StoredMessage
from tests.fakes.telegram_updates import UpdateQueue


@dataclass
class ChatAction:
    chat_id: int
    action: str
    time: float = field(default_factory=time.time)


@dataclass
class CallbackRecord:
    """A button press the server issued; `answer` is set by answerCallbackQuery."""

    query_id: str
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


@dataclass
class ApiCall:
    """One request as the server saw it: accepted (200), refused, or not answered yet (None)."""

    method: str
    params: dict[str, Any]
    status: int | None = None
    description: str | None = None
    time: float = field(default_factory=time.time)  # received (before any latency jitter)
    answered: float | None = None  # when the answer was decided (after the bucket check)


@dataclass
class SentPhoto:
    chat_id: int
    message_id: int
    data: bytes
    caption: str | None


@dataclass
class BotApiState:
    token: str
    bot: FakeUser
    chats: ChatRegistry
    html_validator: HtmlValidator
    limiter: RateLimiter
    log: MessageLog = field(default_factory=MessageLog)
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    # (scope key, language_code) → [{"command", "description"}]
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    chat_actions: list[ChatAction] = field(default_factory=list)
    callback_queries: dict[str, CallbackRecord] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)  # sendPhoto uploads, in order
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        """Wake everyone waiting in wait_until(); a fresh event serves the next change."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def outgoing_json(self, chat: ChatInfo, message: StoredMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot.to_json(),
            "chat": chat.to_json(),
            "date": message.date,
            "text": message.visible_text,
        }
        if message.entities:
            body["entities"] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.link_preview_options:
            body["link_preview_options"] = message.link_preview_options
        if message.edits:
            body["edit_date"] = int(time.time())
        message.json = body
        return body
