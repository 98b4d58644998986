"""Flood control (429 with retry_after) and injected faults for the fake Bot API."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tests.fakes.telegram_chats import ChatInfo
from tests.fakes.telegram_errors import too_many_requests

Clock = Callable[[], float]
FaultKind = Literal["500", "429", "hang"]


@dataclass(frozen=True)
class RateLimits:
    """Telegram's published limits; `None` switches one off.

    Defaults: 30 messages/s overall, 1 message/s per private chat (short bursts allowed),
    20 messages/minute per group, supergroup or channel.
    """

    global_per_second: float | None = 30.0
    global_burst: int = 30
    private_per_second: float | None = 1.0
    private_burst: int = 3
    group_per_minute: float | None = 20.0
    group_burst: int = 5
    methods: frozenset[str] = frozenset({"sendmessage"})

    @classmethod
    def off(cls) -> RateLimits:
        return cls(global_per_second=None, private_per_second=None, group_per_minute=None)

    @classmethod
    def strict(cls) -> RateLimits:
        """Exact buckets as Telegram publishes its limits, on every message-producing call.

        Global: 30 tokens refilled at 30/s. Telegram publishes "about 30 messages per
        second" and no burst; one second's worth is the most a client may count on, and
        a smaller one would refuse a client that sends exactly 30/s once jitter bunches
        its requests. Private chats: 1/s, burst 3 (Telegram tolerates short bursts; 3 is
        the number its FAQ era and PTB's AIORateLimiter assume). Groups: 20/min, burst 5
        (unpublished; the project's DeliverySettings assume 5, so the server holds the
        client to exactly that). Edits count like sends: Telegram answers 429 to edits
        that outrun the same limits.
        """
        return cls(methods=MESSAGE_METHODS)


# Bot API calls that put or change a message in a chat (lower-case: names are
# case-insensitive); what Telegram's message limits are counted on.
MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "editmessagetext", "editmessagereplymarkup"}
)


@dataclass(frozen=True)
class Latency:
    """Network delay variation: every request waits 0..`before` seconds before the server
    looks at it (so evenly sent requests arrive bunched) and 0..`after` seconds before
    its answer leaves.

    `drain=False`: each delay is drawn uniformly (`seed` makes the draws reproducible).
    `drain=True`: the link holds requests and lets them all through every `before`
    seconds, counted from the first request, as a congested queue drains; the same
    variation, worst bunched: everything sent within `before` seconds (from the first
    request on: a burst and what follows it) reaches the server at one instant.
    """

    before: float = 0.25
    after: float = 0.0
    seed: int | None = None
    drain: bool = False

    def __post_init__(self) -> None:
        if self.before < 0 or self.after < 0:
            raise ValueError("latency cannot be negative")


class Jitter:
    """Draws the delays of a `Latency`, in the order requests reach the server."""

    def __init__(self, latency: Latency) -> None:
        self.latency = latency
        self._rng = random.Random(latency.seed)
        self._origin: float | None = None  # when the first request came (drain)

    def draw(self, most: float) -> float:
        return self._rng.uniform(0, most) if most > 0 else 0.0

    async def before(self) -> None:
        period = self.latency.before
        if self.latency.drain and period > 0:
            now = asyncio.get_running_loop().time()
            if self._origin is None:
                self._origin = now
            await asyncio.sleep(period - (now - self._origin) % period)
        else:
            await asyncio.sleep(self.draw(period))

    async def after(self) -> None:
        await asyncio.sleep(self.draw(self.latency.after))


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def wait_needed(self, now: float) -> float:
        """Seconds until a token is free (0 when one is free now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


class RateLimiter:
    """Refuses a send with 429 when the global or the chat's bucket is empty.

    The buckets are read at the moment the server processes the request (after any
    latency jitter), start full, and a refused send consumes nothing, as with Telegram.
    `refused` counts the 429s answered.
    """

    def __init__(self, limits: RateLimits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.refused = 0
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}

    def check(self, method: str, chat: ChatInfo) -> None:
        if method.lower() not in self.limits.methods:
            return
        now = self.clock()
        buckets = [b for b in (self._global_bucket(now), self._chat_bucket(chat, now)) if b]
        wait = max((bucket.wait_needed(now) for bucket in buckets), default=0.0)
        if wait > 0:
            self.refused += 1
            raise too_many_requests(wait)
        for bucket in buckets:
            bucket.take(now)

    def _global_bucket(self, now: float) -> TokenBucket | None:
        rate = self.limits.global_per_second
        if rate is None:
            return None
        if self._global is None:
            burst = self.limits.global_burst
            self._global = TokenBucket(rate, burst, burst, now)
        return self._global

    def _chat_bucket(self, chat: ChatInfo, now: float) -> TokenBucket | None:
        if chat.type == "private":
            rate, burst = self.limits.private_per_second, self.limits.private_burst
        else:
            per_minute, burst = self.limits.group_per_minute, self.limits.group_burst
            rate = per_minute / 60 if per_minute is not None else None
        if rate is None:
            return None
        if chat.id not in self._chats:
            self._chats[chat.id] = TokenBucket(rate, burst, burst, now)
        return self._chats[chat.id]


@dataclass
class Fault:
    """The next `times` calls to `method` (for `chat_id`, if given) misbehave."""

    method: str
    kind: FaultKind
    times: int = 1
    chat_id: int | str | None = None
    retry_after: int = 1
    hang_seconds: float = 30.0
    # A hung call that goes on to succeed: the client timed out, Telegram still delivered.
    then_process: bool = False
    hits: int = field(default=0, init=False)

    def matches(self, method: str, chat_id: str | None) -> bool:
        if self.method.lower() != method.lower() or self.hits >= self.times:
            return False
        return self.chat_id is None or str(self.chat_id) == (chat_id or "")


class FaultInjector:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in ("500", "429", "hang"):
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        self.faults.append(fault)
        return fault

    def take(self, method: str, chat_id: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
