"""Concurrent update processing that keeps each chat's updates in arrival order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


@dataclass
class _ChatTurn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Different chats are served concurrently, one chat's updates one after another
    (`/settings lang en` then `/help` must not swap).

    A chat with `max_queued_per_chat` updates already waiting is flooding: further ones are
    dropped, so one chat can never hold every concurrency slot.
    """

    def __init__(self, max_concurrent_updates: int, max_queued_per_chat: int = 4) -> None:
        super().__init__(max_concurrent_updates)
        self._max_queued = max_queued_per_chat
        self._chats: dict[int, _ChatTurn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        turn = self._chats.setdefault(chat.id, _ChatTurn())
        if turn.waiting >= self._max_queued:
            log.info("chat %s is flooding: update dropped", chat.id)
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            return
        turn.waiting += 1
        try:
            async with turn.lock:
                await coroutine
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                del self._chats[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up: chat turns are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: the application awaits its update tasks before shutting down."""
