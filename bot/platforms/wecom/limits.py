"""Sliding-window send limits taken before sending (WeCom drops excess messages silently).

`SlidingLimiter([(30, 60), (1000, 3600)])` allows each key at most 30 sends in any 60 s
and 1000 in any hour. `acquire(keys)` waits until every key has room, then records one
send for each, atomically (no await between the check and the record).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence

Seconds = Callable[[], float]  # monotonic seconds: windows need no wall time
Sleep = Callable[[float], Awaitable[None]]
MARGIN = 1.0  # seconds added to each window: our clock and the server's differ a little


class SlidingLimiter:
    def __init__(
        self,
        windows: Sequence[tuple[int, float]],
        *,
        clock: Seconds = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        margin: float = MARGIN,
    ) -> None:
        if not windows or any(count < 1 or seconds <= 0 for count, seconds in windows):
            raise ValueError(f"invalid windows {windows!r}")
        self._windows = [(count, seconds + margin) for count, seconds in windows]
        self._horizon = max(seconds for _, seconds in self._windows)
        self._clock = clock
        self._sleep = sleep
        self._sends: dict[str, deque[float]] = {}

    def wait_time(self, keys: Iterable[str]) -> float:
        """Seconds until every key may send once more (0: now)."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            sends = self._trimmed(key, now)
            for count, seconds in self._windows:
                if len(sends) >= count:
                    # the send that must leave the window before one more fits
                    wait = max(wait, sends[len(sends) - count] + seconds - now)
        return wait

    async def acquire(self, keys: Sequence[str]) -> float:
        """Wait for room for one send to every key, then record it; the time waited."""
        waited = 0.0
        while (wait := self.wait_time(keys)) > 0:
            await self._sleep(wait)
            waited += wait
        now = self._clock()
        for key in keys:
            self._sends.setdefault(key, deque()).append(now)
        return waited

    def _trimmed(self, key: str, now: float) -> deque[float]:
        sends = self._sends.get(key)
        if sends is None:
            return deque()
        while sends and sends[0] <= now - self._horizon:
            sends.popleft()
        if not sends:
            del self._sends[key]
        return sends

    def __len__(self) -> int:
        return len(self._sends)
