"""Send limits enforced before sending, on aiolimiter buckets.

The shape of python-telegram-bot's AIORateLimiter: a per-chat limiter inside one
global limiter, and one pause shared by every sender of the platform after flood
control. Each bucket is set a little inside the platform's limit (see `bucket`), so a
client configured with the platform's numbers never provokes a 429.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aiolimiter import AsyncLimiter

from bot.config import DeliverySettings

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
PRIVATE_KINDS = frozenset({"private", "user"})


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A platform's limits; `None` switches one off. Defaults are Telegram's."""

    global_per_second: float | None = 30.0
    global_burst: int | None = None  # None: one second's worth
    private_per_second: float | None = 1.0
    private_burst: int = 3
    group_per_minute: float | None = 20.0
    group_burst: int = 5
    headroom: float = 0.02  # stay this fraction below each rate

    @classmethod
    def from_settings(cls, settings: DeliverySettings, **overrides: Any) -> RateLimits:
        values: dict[str, Any] = {
            "global_per_second": settings.global_per_second,
            "private_per_second": settings.private_per_second,
            "private_burst": settings.private_burst,
            "group_per_minute": settings.group_per_minute,
            "group_burst": settings.group_burst,
            "global_burst": settings.global_burst,
            "headroom": settings.headroom,
        }
        values.update(overrides)
        return cls(**values)

    @classmethod
    def off(cls) -> RateLimits:
        return cls(global_per_second=None, private_per_second=None, group_per_minute=None)

    def chat_rate(self, kind: str) -> tuple[float, int] | None:
        """(messages per second, burst) for a chat of this kind, or None when unlimited."""
        if kind in PRIVATE_KINDS:
            rate, burst = self.private_per_second, self.private_burst
        else:
            per_minute, burst = self.group_per_minute, self.group_burst
            rate = per_minute / 60 if per_minute is not None else None
        return None if rate is None else (rate, burst)

    def scaled(self, factor: float) -> RateLimits:
        """Every rate multiplied by `factor` (tests and benchmarks run faster limits)."""

        def times(rate: float | None) -> float | None:
            return None if rate is None else rate * factor

        return replace(
            self,
            global_per_second=times(self.global_per_second),
            private_per_second=times(self.private_per_second),
            group_per_minute=times(self.group_per_minute),
        )


def bucket(rate_per_second: float, burst: int, headroom: float) -> AsyncLimiter:
    """An aiolimiter bucket just inside (rate, burst).

    One token short of the burst: a chat's token is taken before the global one and a
    free sending slot, so its send may come late, right before the next token is due;
    a bucket one smaller absorbs exactly that bunching (for burst >= 2). `headroom`
    below the rate absorbs network jitter, as the server's bucket gains slack over time.
    """
    if rate_per_second <= 0 or burst < 1:
        raise ValueError(f"invalid limit: {rate_per_second}/s, burst {burst}")
    capacity = max(1, min(burst - 1, math.floor(burst * (1 - headroom))))
    rate = rate_per_second * (1 - headroom)
    return AsyncLimiter(capacity, capacity / rate)


def refill_seconds(limiter: AsyncLimiter) -> float:
    """How long an emptied bucket takes to become full again."""
    return limiter.time_period


class Pause:
    """The shared flood-control pause: everyone waits until the latest `retry_after` ends."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        self._until = max(self._until, self._clock() + seconds)

    @property
    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        while (left := self._until - self._clock()) > 0:
            await self._sleep(left)


@dataclass
class _ChatEntry:
    limiter: AsyncLimiter | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChatLimiters:
    """Per-chat buckets (and a lock so one chat is served by one delivery at a time).

    Entries live while in use and until their bucket has refilled, so a chat that
    gets a second delivery right after the first cannot burst twice; memory stays
    bounded by the chats served in the last refill period.
    """

    def __init__(self, limits: RateLimits | None, clock: Clock) -> None:
        self._limits = limits
        self._clock = clock
        self._entries: dict[object, _ChatEntry] = {}
        self._idle: OrderedDict[object, float] = OrderedDict()  # key -> forget after

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: object, kind: str) -> AsyncIterator[AsyncLimiter | None]:
        """Exclusive use of the chat; yields its bucket (None when unlimited)."""
        entry = self._checkout(key, kind)
        try:
            async with entry.lock:
                yield entry.limiter
        finally:
            self._checkin(key, entry)

    def _checkout(self, key: object, kind: str) -> _ChatEntry:
        self._forget_refilled()
        self._idle.pop(key, None)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _ChatEntry(self._new_limiter(kind))
        entry.users += 1
        return entry

    def _checkin(self, key: object, entry: _ChatEntry) -> None:
        entry.users -= 1
        if entry.users == 0:
            keep = refill_seconds(entry.limiter) if entry.limiter is not None else 0.0
            self._idle[key] = self._clock() + keep

    def _new_limiter(self, kind: str) -> AsyncLimiter | None:
        rate = self._limits.chat_rate(kind) if self._limits is not None else None
        if rate is None:
            return None
        assert self._limits is not None
        return bucket(rate[0], rate[1], self._limits.headroom)

    def _forget_refilled(self) -> None:
        now = self._clock()
        while self._idle:
            key, expires = next(iter(self._idle.items()))
            if expires > now:
                break
            del self._idle[key]
            self._entries.pop(key, None)


class Gate:
    """Everything a platform's sends pass through: pause, global bucket, chat buckets."""

    def __init__(self, limits: RateLimits | None, clock: Clock, sleep: Sleep) -> None:
        self.limits = limits
        self.pause = Pause(clock, sleep)
        # Buckets refill on the event loop's clock, so their entries expire on it too.
        self.chats = ChatLimiters(limits, time.monotonic)
        rate = limits.global_per_second if limits is not None else None
        self._global: AsyncLimiter | None = None
        if limits is not None and rate is not None:
            burst = limits.global_burst or max(1, math.ceil(rate))
            self._global = bucket(rate, burst, limits.headroom)

    async def ready(self) -> None:
        """Wait out any flood pause, then take a global token; call right before sending."""
        await self.pause.wait()
        if self._global is not None:
            await self._global.acquire()
            await self.pause.wait()  # a pause may have begun while queueing for the token
