"""Per-user token buckets: a flooding user is slowed down without slowing anyone else.

Pure: the caller passes the time. Over the limit the first command gets one polite
"slow down" (`WARN`), the following ones are dropped silently (`DROP`) until a
token has refilled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

MAX_TRACKED: Final = 10_000  # beyond this, full (idle) buckets are forgotten
_EPSILON: Final = 1e-9  # refills summed in steps must not miss a token by rounding


class Verdict(Enum):
    OK = "ok"
    WARN = "warn"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    per_minute: float = 20.0  # sustained rate
    burst: int = 5  # commands allowed back to back

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


DEFAULT_FLOOD: Final = FloodPolicy()


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class FloodGuard:
    def __init__(self, policy: FloodPolicy = DEFAULT_FLOOD) -> None:
        self._policy = policy
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str, now: float) -> Verdict:
        """Spend one token of `key`'s bucket at time `now` (seconds, any epoch)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(float(self._policy.burst), now)
        self._refill(bucket, now)
        if bucket.tokens >= 1.0 - _EPSILON:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            bucket.warned = False
            return Verdict.OK
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.stamp)
        bucket.tokens = min(
            float(self._policy.burst), bucket.tokens + elapsed * self._policy.per_second
        )
        bucket.stamp = max(bucket.stamp, now)

    def _forget_idle(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self._policy.burst - _EPSILON:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
