"""An event loop whose clock moves only when every task waits on a timer.

Tests that model latency with sleeps measure arrivals on the loop's clock; on a real clock
a busy machine (xdist workers on two cores) stalls the loop and bunches wake-ups beyond
the jitter being modelled, so their verdict depended on the machine. Here a sleep takes no
wall time and the loop's schedule is exact, so a seed gives the same interleaving on every
machine.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _TimeWarpSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Never blocks: where the loop would sleep until its next timer, the clock jumps."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            raise RuntimeError("every task waits and no timer is set: the test would hang")
        self._loop.advance(timeout)
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_TimeWarpSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def run_in_virtual_time(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
