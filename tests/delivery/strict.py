"""Pushes against the strict fake Bot API (Telegram's exact buckets, network jitter).

Rates are Telegram's own, not scaled: what is under test is the arithmetic between our
buckets, the server's and the jitter (see bot/delivery/ratelimit.py), and scaling the
rates while keeping 250 ms of jitter would test another regime. So pushes stay short:
~300 messages are ten seconds at 30/s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.config import DeliverySettings
from bot.delivery import EngineTuning
from bot.delivery.ratelimit import JITTER_ALLOWANCE
from storage import deliveries, issues, subscribers
from storage.deliveries.writes import DeliveryItem
from tests.delivery.helpers import Sessions
from tests.fakes.telegram_limits import Latency
from tests.fakes.telegram_server import FakeTelegramServer
from tests.storage.factories import at, make_issue

# Telegram's limits, as configured by default.
# 64 workers: enough requests in flight that only the buckets, not the worker count, can
# keep the server's buckets from running dry.
SETTINGS = DeliverySettings(workers=64, batch_size=500, max_attempts=4, retry_margin_seconds=0.2)
TUNING = EngineTuning(stale_after=2.0, backoff_base=0.05, backoff_max=0.5, idle_poll=0.1)
GLOBAL_LIMIT = SETTINGS.global_per_second
# Up to 250 ms before the bucket check, 50 ms after it: evenly sent requests arrive bunched.
JITTER = Latency(before=0.25, after=0.05, seed=13)
# The same 250 ms, bunched the worst way: what was sent within 250 ms arrives at once.
DRAIN = Latency(before=0.25, after=0.05, seed=13, drain=True)


@dataclass(frozen=True)
class Push:
    issue_id: int
    expected: dict[int, list[str]]  # chat id -> texts, in order


async def seed_push(
    sessions: Sessions, chats: list[int], messages: int = 1, *, issue_day: int = 1
) -> Push:
    """One issue of `messages` messages to each of `chats` (private when positive)."""
    rendering: list[dict[str, Any]] = [
        {"text": f"part {n + 1}/{messages}", "format": "html", "disable_preview": True}
        for n in range(messages)
    ]
    items: list[DeliveryItem] = []
    async with sessions.begin() as session:
        saved = await issues.save_issue(session, make_issue(date(2025, 3, issue_day)), at(0))
        for chat in chats:
            kind = "private" if chat > 0 else "group"
            sub, _ = await subscribers.get_or_create(session, "telegram", str(chat), kind=kind)
            items.append(DeliveryItem(sub.id, "all", "telegram", rendering))
        await deliveries.create_deliveries(session, saved.issue_id, items, at(1))
    texts = [m["text"] for m in rendering]
    return Push(saved.issue_id, {chat: list(texts) for chat in chats})


def received(server: FakeTelegramServer) -> dict[int, list[str]]:
    by_chat: dict[int, list[str]] = defaultdict(list)
    for message in server.messages:
        by_chat[message.chat_id].append(message.text)
    return dict(by_chat)


def achieved_rate(
    server: FakeTelegramServer, *, skip: float = 0.0, stalls: LoopStalls | None = None
) -> float:
    """Messages per second the client sent, from the first accepted send (or `skip`
    seconds after it: past the opening burst) to the last, less the time `stalls` excuses.

    Times are when requests reached the server, before its jitter: the client's pace,
    not the jitter's noise at either end of a ten-second run.
    """
    times = sorted(c.time for c in server.calls_to("sendMessage") if c.status == 200)
    times = [t for t in times if t >= times[0] + skip]
    lost = stalls.excused(times[0], times[-1]) if stalls is not None else 0.0
    return (len(times) - 1) / (times[-1] - times[0] - lost)


class LoopStalls:
    """Times the event loop could not run at all (a starved machine: client and server
    share the loop), measured by a task that wakes every `TICK` seconds.

    Our global bucket keeps a burst of about `JITTER_ALLOWANCE` seconds of sends, so a
    stall shorter than that is made up afterwards and excuses nothing: only the part of
    each stall beyond it is time the pace could not be kept.
    """

    TICK = 0.005

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        """`clock`: what `excused` is given times on (the loop's by default)."""
        self.found: list[tuple[float, float]] = []  # (woke at, seconds late)
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopStalls:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.TICK
            await asyncio.sleep(self.TICK)
            woke = loop.time()
            if woke - due > JITTER_ALLOWANCE:
                self.found.append((self._clock() if self._clock else woke, woke - due))

    def excused(self, start: float, end: float) -> float:
        """The stalls' time beyond the burst's cover, the part of each within start..end."""
        total = 0.0
        for woke, late in self.found:
            within = min(woke, end) - max(woke - late + JITTER_ALLOWANCE, start)
            total += max(0.0, within)
        return total
