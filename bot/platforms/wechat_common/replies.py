"""Answering WeChat callbacks in time, once: reply packing, retry dedup, the 客服 budget.

WeChat waits 5 seconds for an answer, then retries the same callback (up to three times).
`AnswerBook` runs each distinct message once (keyed by MsgId, or sender + CreateTime for
events) and decides, without awaiting between check and set, who delivers its result:

- the first request that sees the result within its budget answers passively with the
  first text; the rest go out as customer-service messages; a retry gets the same text;
- if no request saw it in time, the result goes out as customer-service messages only
  and every request (first or retry) answers `success`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.commands import Reply

log = logging.getLogger(__name__)
SUCCESS = "success"
Deliver = Callable[[list[str]], Coroutine[Any, Any, None]]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def pack_texts(replies: Iterable[Reply], max_bytes: int) -> list[str]:
    """The replies' message texts, consecutive ones merged while they fit `max_bytes`.

    Fewer texts mean fewer customer-service sends (5 per user message at most); a text
    that is too long on its own (renderers already keep within the limit) stays as is.
    """
    packed: list[str] = []
    for reply in replies:
        for message in reply.messages:
            text = message.text.strip("\n")
            if not text:
                continue
            if packed and utf8_len(packed[-1]) + 2 + utf8_len(text) <= max_bytes:
                packed[-1] = f"{packed[-1]}\n\n{text}"
            else:
                packed.append(text)
    return packed


@dataclass
class _Entry:
    task: asyncio.Task[list[str]]
    created: float
    outcome: Literal["passive", "late"] | None = None


@dataclass
class AnswerBook:
    """In-process dedup of callbacks; entries live `ttl` seconds (WeChat retries in ~15 s)."""

    ttl: float = 300.0
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    _side: set[asyncio.Task[None]] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self._entries)

    async def answer(
        self,
        key: str,
        work: Callable[[], Awaitable[list[str]]],
        budget: float,
        deliver_late: Deliver,
    ) -> str:
        """The passive answer for this request: a text, or SUCCESS.

        `work` runs once per key; `deliver_late(texts)` sends texts the passive answer did
        not carry (customer-service messages) and is called at most once per key.
        """
        entry = self._entry(key, work)
        if entry.outcome is None and not entry.task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(entry.task), budget)
        if entry.outcome is None:
            if entry.task.done() and not entry.task.cancelled():
                entry.outcome = "passive"
                texts = self._result(entry)
                if len(texts) > 1:
                    self._spawn(deliver_late(texts[1:]))
            else:
                entry.outcome = "late"
                self._spawn(self._late(entry.task, deliver_late))
        if entry.outcome == "passive":
            texts = self._result(entry)
            return texts[0] if texts else SUCCESS
        return SUCCESS

    def _entry(self, key: str, work: Callable[[], Awaitable[list[str]]]) -> _Entry:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            task = asyncio.create_task(_run(work), name=f"wechat-answer-{key}")
            entry = self._entries[key] = _Entry(task, self.clock())
        return entry

    @staticmethod
    def _result(entry: _Entry) -> list[str]:
        return entry.task.result() if not entry.task.cancelled() else []

    @staticmethod
    async def _late(task: asyncio.Task[list[str]], deliver: Deliver) -> None:
        try:
            texts = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the work was cancelled (shutdown): nothing to send
                return
            raise
        if texts:
            await deliver(texts)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    def _expire(self) -> None:
        horizon = self.clock() - self.ttl
        for key, entry in list(self._entries.items()):  # oldest first
            if entry.created > horizon and len(self._entries) <= self.max_entries:
                break
            if entry.task.done():
                del self._entries[key]

    async def drain(self) -> None:
        """Wait for running work and late deliveries (shutdown, tests)."""
        pending = [e.task for e in self._entries.values() if not e.task.done()]
        await asyncio.gather(*pending, return_exceptions=True)
        while self._side:
            await asyncio.gather(*list(self._side), return_exceptions=True)


async def _run(work: Callable[[], Awaitable[list[str]]]) -> list[str]:
    try:
        return await work()
    except Exception:
        log.exception("handling a WeChat callback failed")
        return []


@dataclass
class ServiceBudget:
    """Customer-service sends left per user: 5 within 48 h of a message, 3 within a minute
    of an event (WeChat's 2023 rule); each new interaction replaces the allowance."""

    clock: Callable[[], float] = time.monotonic
    _grants: dict[str, tuple[int, float]] = field(default_factory=dict)

    def opened(self, openid: str, kind: Literal["message", "event"]) -> None:
        quota, seconds = (5, 48 * 3600.0) if kind == "message" else (3, 60.0)
        self._grants[openid] = (quota, self.clock() + seconds)
        if len(self._grants) > 50_000:
            self._forget_expired()

    def take(self, openid: str) -> bool:
        left, until = self._grants.get(openid, (0, 0.0))
        if left <= 0 or until <= self.clock():
            return False
        self._grants[openid] = (left - 1, until)
        return True

    def _forget_expired(self) -> None:
        now = self.clock()
        for openid in [o for o, (_, until) in self._grants.items() if until <= now]:
            del self._grants[openid]
