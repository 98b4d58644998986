"""The bot's pending updates and getUpdates long polling, with Telegram's offset rules."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.fakes.telegram_errors import conflict

# What Telegram sends when allowed_updates was never set or set to [].
NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)


def update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class _Poll:
    def __init__(self) -> None:
        self.wakeup = asyncio.Event()
        self.terminated = False


class UpdateQueue:
    """Updates wait here until a getUpdates call with a higher offset confirms them."""

    def __init__(self, first_update_id: int = 1) -> None:
        self._updates: list[dict[str, Any]] = []
        self._next_id = first_update_id
        self._poll: _Poll | None = None
        self.allowed_updates: list[str] = []
        self.closing = False

    @property
    def pending(self) -> list[dict[str, Any]]:
        return list(self._updates)

    def push(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (`{"message": {...}}` etc.); returns it with its update_id."""
        update = {"update_id": self._next_id, **body}
        self._next_id += 1
        self._updates.append(update)
        self._wake()
        return update

    def drop_all(self) -> None:
        self._updates.clear()

    def close(self) -> None:
        self.closing = True
        self._wake()

    async def get_updates(
        self, offset: int | None, limit: int, timeout: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        if allowed is not None:
            self.allowed_updates = allowed
        self._confirm(offset)
        poll = self._take_over()
        try:
            ready = self._deliverable(limit)
            if not ready and timeout > 0 and not self.closing:
                await self._wait(poll, timeout)
                ready = self._deliverable(limit)
            if poll.terminated:
                raise conflict(TERMINATED)
            return ready
        finally:
            if self._poll is poll:
                self._poll = None

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            # "-N": keep only the last N updates; everything before is forgotten.
            del self._updates[: max(len(self._updates) + offset, 0)]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _take_over(self) -> _Poll:
        """A new getUpdates ends the one in progress with 409, as Telegram does."""
        if self._poll is not None:
            self._poll.terminated = True
            self._poll.wakeup.set()
        self._poll = _Poll()
        return self._poll

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates)
        wanted = (
            (lambda kind: kind in allowed)
            if allowed
            else (lambda kind: kind not in NOT_SENT_BY_DEFAULT)
        )
        # Updates of kinds the bot does not take are dropped, never delivered later.
        self._updates = [u for u in self._updates if wanted(update_type(u))]
        return self._updates[: max(1, min(limit, 100))]

    async def _wait(self, poll: _Poll, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(poll.wakeup.wait(), timeout)

    def _wake(self) -> None:
        if self._poll is not None:
            self._poll.wakeup.set()
