"""Building blocks shared by the fake WeChat and WeCom APIs: clock, tokens, limits, faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


class FakeClock:
    """Server-side time that tests move forward; starts at the real wall clock."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, timestamp: float) -> None:
        with self._lock:
            self._now = timestamp


class WallClock(FakeClock):
    """The real wall clock plus whatever was advanced: for a standalone server, whose
    tokens, rate windows and duplicate checks must age as time passes."""

    def __init__(self) -> None:
        super().__init__(0.0)  # `_now` holds the offset from the wall clock

    def now(self) -> float:
        with self._lock:
            return time.time() + self._now

    def set(self, timestamp: float) -> None:
        with self._lock:
            self._now = timestamp - time.time()


class ApiError(Exception):
    """Raised by handlers; rendered as the real `{"errcode": N, "errmsg": "..."}` body."""

    def __init__(self, errcode: int, errmsg: str, **extra: Any) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.extra = extra


@dataclass
class _Token:
    owner: str
    expires_at: float
    superseded_at: float | None = None


@dataclass(frozen=True)
class TokenErrors:
    """How one API words a bad token (the Official Account and WeCom differ)."""

    invalid: tuple[int, str]
    expired: tuple[int, str] = (42001, "access_token expired")
    missing: tuple[int, str] = (41001, "access_token missing")


class TokenBook:
    """Issues and checks access tokens.

    rotate=True is the Official Account rule: each fetch issues a new token and the old one
    stays valid for `grace` seconds. rotate=False is WeCom: a fetch returns the current token
    until it expires.
    """

    def __init__(
        self, clock: FakeClock, ttl: int, errors: TokenErrors, rotate: bool, grace: float = 300
    ) -> None:
        self._clock = clock
        self.ttl = ttl
        self._errors = errors
        self._rotate = rotate
        self._grace = grace
        self._tokens: dict[str, _Token] = {}
        self._latest: dict[str, str] = {}

    def issue(self, owner: str) -> tuple[str, int]:
        now = self._clock.now()
        current = self._tokens.get(self._latest.get(owner, ""))
        if current is not None and current.expires_at > now:
            if not self._rotate:
                return self._latest[owner], int(current.expires_at - now)
            current.superseded_at = now
        token = "FAKE_" + secrets.token_urlsafe(40)
        self._tokens[token] = _Token(owner, now + self.ttl)
        self._latest[owner] = token
        return token, self.ttl

    def check(self, token: str | None) -> str:
        """Return the token's owner or raise the API's token error."""
        if not token:
            raise ApiError(*self._errors.missing)
        entry = self._tokens.get(token)
        now = self._clock.now()
        if entry is None:
            raise ApiError(*self._errors.invalid)
        if entry.expires_at <= now:
            raise ApiError(*self._errors.expired)
        if entry.superseded_at is not None and now >= entry.superseded_at + self._grace:
            raise ApiError(*self._errors.invalid)
        return entry.owner

    def revoke(self, owner: str) -> None:
        """Forget every token of `owner` (as if the secret was reset): they answer `invalid`."""
        for token in [t for t, e in self._tokens.items() if e.owner == owner]:
            del self._tokens[token]
        self._latest.pop(owner, None)

    def latest(self, owner: str) -> str | None:
        return self._latest.get(owner)


class SlidingWindow:
    """Counts events per key inside a trailing time window."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._events: dict[str, deque[float]] = {}

    def count(self, key: str) -> int:
        events = self._events.setdefault(key, deque())
        horizon = self._clock.now() - self._seconds
        while events and events[0] <= horizon:
            events.popleft()
        return len(events)

    def add(self, key: str) -> None:
        self.count(key)
        self._events[key].append(self._clock.now())


@dataclass
class Fault:
    """What the next matching call gets instead of the real handler's answer.

    hang: seconds to hold the request first (released early by `release_hangs`), then
    errcode / http_status apply; with neither the real handler answers late.
    """

    times: int = 1
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    hang: float | None = None


class FaultInjector:
    """Per-path queue of faults; each call of that path consumes one."""

    def __init__(self) -> None:
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()

    def inject(
        self,
        path: str,
        *,
        times: int = 1,
        errcode: int | None = None,
        errmsg: str | None = None,
        http_status: int | None = None,
        hang: float | None = None,
    ) -> None:
        fault = Fault(times, errcode, errmsg, http_status, hang)
        with self._lock:
            self._faults.setdefault(path, deque()).append(fault)

    def take(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP call the fake answered, whatever the outcome."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    errcode: int | None


@dataclass(frozen=True)
class SentMessage:
    """A message the API accepted.

    channel: "custom" | "mass" (Official Account), "app" | "robot" (WeCom).
    targets: openids / userids that received it (robot: the robot key).
    """

    channel: str
    msgtype: str
    content: str
    targets: tuple[str, ...]
    at: float
    meta: dict[str, Any] = field(default_factory=dict)
