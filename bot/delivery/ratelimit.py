"""Send limits enforced before sending: token buckets a strict server never refuses.

The shape of python-telegram-bot's AIORateLimiter: a per-chat bucket inside one global
bucket, and one pause shared by every sender of the platform after flood control. The
server (Telegram) holds a token bucket per limit: capacity S refilled at R per second,
read when a request reaches it. Ours are sized so that no request of ours ever finds
the server's bucket empty, for any delay up to `JITTER_ALLOWANCE` between taking our
token and the server reading its own:

* Global (`global_bucket`). Our bucket of capacity C at rate r lets at most C + r*w
  requests leave in any window of w seconds. Delays that vary by up to J move requests
  leaving within w + J into one window w at the server, so at most C + r*J + r*w arrive
  there, against the S + R*w the server accepts: it never refuses iff r <= R and
  C + r*J <= S. We take r = R*(1 - headroom) and C = floor(S - r*J). At Telegram's
  30/s (S = 30, one second's worth) and J = 0.5 s: r = 29.4/s, C = 15. The burst is
  what pays for the jitter; the steady rate stays at 98 % of the limit.
* Per chat (`chat_bucket`). Requests to one chat go one at a time (the chat's `turn`
  spans the request until its answer), so the next token is taken only after the
  server has read the previous request: of the requests the server reads within a
  window w, all but the first left within it, at most C + r*w of them. So C + 1 <= S
  suffices whatever the delays: C = S - 1 (2 for a private chat's burst of 3). A
  burst of 1 leaves no room for that: the bucket spaces requests by 1/R + J instead.
* After a restart (`Gate(fresh=True)`) buckets start empty: the process that ran a
  moment ago may have emptied the server's buckets, and ours cannot know. Its requests
  and ours then stay within one (C, r) envelope, as if one process had sent them all.
  Chat buckets start empty for chats first served within the server's refill time
  (S/R + J) of the start; the global one for its first C/r seconds.

These count one process's requests. Processes sharing a bot token must share the
global envelope (split C and r among them: `Gate.set_share`), and a chat that two
processes may send to at once has two requests in flight: its C must be S - 2. With
several instances that is every chat: one instance pushes to it (the claim of its
delivery) while another may answer it (the leader's long polling, or any instance in
webhook mode), so `set_share(n > 1)` makes new chat buckets C = S - 2 (1 for a private
chat's 3), leaving the server's burst room for one reply of the other instance. That
room comes back only at the rate we leave unused (R - r, 2 % of R): a second reply
close behind the first while the push goes on, or a reply of several messages, can
find the server's bucket empty. Independent processes cannot do better without a
shared per-chat clock; the server's refusal (429) costs that reply its retry_after
through the shared pause, never the message.

Replies to users (`Gate.ready(priority=True)`) are served before waiting pushes, and a
push holding the turn of a chat a reply waits for goes ahead of the other pushes, so a
push holds a reply back by about a chat token's time (1 s), plus other replies' turns.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from bot.config import DeliverySettings

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
PRIVATE_KINDS = frozenset({"private", "user"})
# How much the delay between taking a token and the server reading the request may vary:
# network jitter (a few hundred ms on a bad day) plus this process's own scheduling lag.
# Only the global bucket's burst pays for it (see above), never the steady rate.
JITTER_ALLOWANCE = 0.5
# Float rounding in the refill must not make a waiter miss a token that is due.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A platform's limits; `None` switches one off. Defaults are Telegram's."""

    global_per_second: float | None = 30.0
    global_burst: int | None = None  # None: one second's worth
    private_per_second: float | None = 1.0
    private_burst: int = 3
    group_per_minute: float | None = 20.0
    group_burst: int = 5
    headroom: float = 0.02  # stay this fraction below each rate (clock drift, rounding)

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

    @property
    def global_capacity(self) -> int | None:
        """The server's global burst S: `global_burst`, or one second's worth."""
        rate = self.global_per_second
        if rate is None:
            return None
        return self.global_burst or max(1, math.ceil(rate))

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


Urgent = Callable[[], bool]


class Bucket:
    """A token bucket on the event loop's clock (its timers serve the waiters): `capacity` tokens,
    refilled at `rate` per second. Waiters are served in arrival order, except that those
    asking for `priority` go first, then those whose `urgent()` has become true."""

    def __init__(self, rate: float, capacity: float, *, full: bool = True) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"invalid bucket: {rate}/s, capacity {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._tokens = float(capacity) if full else 0.0
        self._stamp = _now()
        self._first: deque[asyncio.Future[None]] = deque()
        self._others: deque[tuple[asyncio.Future[None], Urgent | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def refill_seconds(self) -> float:
        """How long an emptied bucket takes to become full again."""
        return self.capacity / self.rate

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    async def acquire(self, *, priority: bool = False, urgent: Urgent | None = None) -> None:
        """Take a token, waiting for it if none is free (or others wait before us)."""
        self._refill()
        if not (self._first or self._others) and self._tokens >= 1 - _EPSILON:
            self._tokens -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if priority:
            self._first.append(waiter)
        else:
            self._others.append((waiter, urgent))
        self._schedule()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted, never used
                self.give_back()
            raise

    async def wait_token(self) -> None:
        """Until a token is free for us, taking none: a wait to do before holding
        anything scarce, after which `acquire` is normally immediate."""
        await self.acquire()
        self.give_back()

    def retune(self, rate: float, capacity: float) -> None:
        """Change rate and capacity from now on: tokens earned so far count at the old
        rate, and no more than the new capacity is kept. Waiters are rescheduled, since a
        timer set for the old rate would serve them too early or too late."""
        if rate <= 0 or capacity < 1:
            raise ValueError(f"invalid bucket: {rate}/s, capacity {capacity}")
        self._refill()
        self.rate, self.capacity = rate, capacity
        self._tokens = min(float(capacity), self._tokens)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._schedule()

    def give_back(self) -> None:
        """Return a token taken for a request that was never sent."""
        self._refill()
        self._tokens = min(float(self.capacity), self._tokens + 1)
        if self._first or self._others:
            self._serve()

    def _refill(self) -> None:
        now = _now()
        # never negative: a bucket made outside the loop whose clock it then runs on (a
        # test's virtual one) would otherwise start thousands of tokens in debt
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._stamp = now

    def _next(self) -> asyncio.Future[None] | None:
        while self._first:
            waiter = self._first.popleft()
            if not waiter.done():
                return waiter
        for index, (waiter, urgent) in enumerate(self._others):
            if urgent is not None and not waiter.done() and urgent():
                del self._others[index]
                return waiter
        while self._others:
            waiter, _ = self._others.popleft()
            if not waiter.done():
                return waiter
        return None

    def _serve(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._refill()
        while self._tokens >= 1 - _EPSILON and (waiter := self._next()) is not None:
            self._tokens -= 1
            waiter.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        while self._first and self._first[0].done():
            self._first.popleft()
        while self._others and self._others[0][0].done():
            self._others.popleft()
        if self._timer is not None or not (self._first or self._others):
            return
        self._refill()
        wait = max(0.0, (1 - self._tokens) / self.rate)
        self._timer = asyncio.get_running_loop().call_later(wait, self._serve)


def _now() -> float:
    """The running loop's clock, which its timers run on (`time.monotonic` for asyncio's own
    loops); outside a loop, the monotonic clock."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def global_bucket(
    rate_per_second: float, burst: int, headroom: float, *, full: bool = True
) -> Bucket:
    """Our side of a server bucket (capacity `burst`, `rate_per_second`) shared by
    requests in flight together: C + r*J <= S (module docstring)."""
    if rate_per_second <= 0 or burst < 1:
        raise ValueError(f"invalid limit: {rate_per_second}/s, burst {burst}")
    rate = rate_per_second * (1 - headroom)
    if burst - rate * JITTER_ALLOWANCE < 1:  # the burst cannot absorb the jitter: slow down
        rate = (burst - 1) / JITTER_ALLOWANCE if burst > 1 else _spaced(rate)
    capacity = max(1, math.floor(burst - rate * JITTER_ALLOWANCE + _EPSILON))
    return Bucket(rate, capacity, full=full)


def chat_bucket(
    rate_per_second: float, burst: int, headroom: float, *, full: bool = True, senders: int = 1
) -> Bucket:
    """Our side of a chat's server bucket, for requests sent one at a time (the chat's
    turn) by each of `senders` processes: C + senders <= S (module docstring)."""
    if rate_per_second <= 0 or burst < 1:
        raise ValueError(f"invalid limit: {rate_per_second}/s, burst {burst}")
    rate = rate_per_second * (1 - headroom)
    if burst - senders < 1:  # nothing to absorb a late read: space by interval + jitter
        return Bucket(_spaced(rate), 1, full=full)
    return Bucket(rate, burst - senders, full=full)


def _spaced(rate: float) -> float:
    return 1 / (1 / rate + JITTER_ALLOWANCE)


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
class Chat:
    """One chat's bucket (None: unlimited) and its locks."""

    bucket: Bucket | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one delivery at a time
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # one request in flight
    _asking: int = 0  # replies waiting for the turn
    users: int = 0

    def awaited(self) -> bool:
        """A reply waits for the chat's turn: whoever holds it should hurry (`urgent`)."""
        return self._asking > 0

    async def ready(self) -> None:
        """Until the chat's bucket has a token for us (taking none): the chat's rate is
        waited out here, before holding a sending slot."""
        if self.bucket is not None:
            await self.bucket.wait_token()

    @asynccontextmanager
    async def turn(self, *, reply: bool = False) -> AsyncIterator[None]:
        """Send one request to the chat inside: waits for the previous one's answer, then
        takes the chat's token. Leave once the answer is in (see `chat_bucket`). A
        `reply` waiting makes the holder's global wait urgent (see `awaited`)."""
        self._asking += reply
        try:
            await self._turn.acquire()
        finally:
            self._asking -= reply
        try:
            if self.bucket is not None:
                await self.bucket.acquire()
            yield
        finally:
            self._turn.release()


class ChatLimiters:
    """Per-chat buckets and locks, by chat id; for deliveries (`hold`: the chat to one
    delivery at a time) and single requests such as replies (`turn`).

    Entries live while in use and until their bucket has refilled, so a chat that
    gets a second delivery right after the first cannot burst twice; memory stays
    bounded by the chats served in the last refill period. Buckets of chats first served
    before `empty_until` (the clock's time) start empty (see `Gate`).
    """

    def __init__(
        self, limits: RateLimits | None, clock: Clock, *, empty_until: float = -math.inf
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._empty_until = empty_until
        self._entries: dict[object, Chat] = {}
        self._idle: OrderedDict[object, float] = OrderedDict()  # key -> forget after
        # Processes that may send to one chat at once (module docstring); set by the Gate.
        self.senders = 1

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: object, kind: str) -> AsyncIterator[Chat]:
        """Exclusive use of the chat for a delivery; send each message in `chat.turn()`."""
        entry = self._checkout(key, kind)
        try:
            async with entry.lock:
                yield entry
        finally:
            self._checkin(key, entry)

    @asynccontextmanager
    async def turn(self, key: object, kind: str) -> AsyncIterator[Chat]:
        """One reply to the chat: between the messages of its deliveries, the one under
        way hurried along for it."""
        entry = self._checkout(key, kind)
        try:
            async with entry.turn(reply=True):
                yield entry
        finally:
            self._checkin(key, entry)

    def _checkout(self, key: object, kind: str) -> Chat:
        self._forget_refilled()
        self._idle.pop(key, None)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = Chat(self._new_bucket(kind))
        entry.users += 1
        return entry

    def _checkin(self, key: object, entry: Chat) -> None:
        entry.users -= 1
        if entry.users == 0:
            keep = entry.bucket.refill_seconds if entry.bucket is not None else 0.0
            self._idle[key] = self._clock() + keep

    def _new_bucket(self, kind: str) -> Bucket | None:
        rate = self._limits.chat_rate(kind) if self._limits is not None else None
        if rate is None:
            return None
        assert self._limits is not None
        per_second, burst = rate
        # The server's bucket is full again S/R after the last request it read.
        settled = self._clock() >= self._empty_until + burst / per_second
        return chat_bucket(
            per_second, burst, self._limits.headroom, full=settled, senders=self.senders
        )

    def _forget_refilled(self) -> None:
        now = self._clock()
        while self._idle:
            key, expires = next(iter(self._idle.items()))
            if expires > now:
                break
            del self._idle[key]
            self._entries.pop(key, None)


class Gate:
    """Everything a platform's sends pass through: pause, global bucket, chat buckets.

    One per bot token and process, shared by every sender of it (pushes, replies,
    alerts). `fresh`: the process has just started, possibly right after another one
    used the same token, so buckets start empty (module docstring); False for a gate
    known to follow no other sender (tests, benchmarks).
    """

    def __init__(
        self, limits: RateLimits | None, clock: Clock, sleep: Sleep, *, fresh: bool = True
    ) -> None:
        self.limits = limits
        self.pause = Pause(clock, sleep)
        # Buckets refill on the event loop's clock, so their entries expire on it too.
        started = _now() + JITTER_ALLOWANCE if fresh else -math.inf
        self.chats = ChatLimiters(limits, _now, empty_until=started)
        self._global: Bucket | None = None
        self.share = 1  # instances splitting this token's global rate (set_share)
        capacity = limits.global_capacity if limits is not None else None
        if limits is not None and limits.global_per_second is not None and capacity:
            self._global = global_bucket(
                limits.global_per_second, capacity, limits.headroom, full=not fresh
            )

    @property
    def global_tokens(self) -> Bucket | None:
        return self._global

    def set_share(self, instances: int) -> None:
        """Keep 1/`instances` of the token's global rate and burst (bot/delivery/share.py):
        N such shares add up to no more than the whole; with more than one instance a
        chat may get requests from two at once, so its buckets keep room for the other's
        (module docstring). Chats already in use keep their bucket until it refills."""
        instances = max(1, instances)
        self.share = instances
        self.chats.senders = 2 if instances > 1 else 1
        limits = self.limits
        if self._global is None or limits is None or limits.global_per_second is None:
            return
        burst = limits.global_capacity or 1
        target = global_bucket(
            limits.global_per_second / instances, max(1, burst // instances), limits.headroom
        )
        self._global.retune(target.rate, target.capacity)

    async def ready(self, *, priority: bool = False, urgent: Urgent | None = None) -> None:
        """Wait out any flood pause, then take a global token; call right before sending.

        `priority`: someone is waiting for this message (a reply): served before pushes;
        `urgent()`: becomes true when someone waits behind it (a push holding the turn
        of a chat a reply waits for): then served before other pushes.
        """
        await self.pause.wait()
        if self._global is not None:
            await self._global.acquire(priority=priority, urgent=urgent)
            await self.pause.wait()  # a pause may have begun while queueing for the token
