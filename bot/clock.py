"""The publication clock: what time the pollers, scheduler and publisher think it is.

Injectable so tests and `briefbot tick --now` fix it and `briefbot run --start` shifts it.
A `Clock` tells wall-clock time (aware datetimes, from storage.clock.utcnow); the
monotonic float callables that pace rate limits are a different thing
(`bot.delivery.ratelimit.Clock`, seconds as a float).
It lives in bot/, not bot/publish/, so sources read it without importing publish.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from storage.clock import utcnow


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ShiftedClock:
    """Real time moved to start at `start` (`briefbot run --start`: rehearse a publication)."""

    def __init__(self, start: datetime) -> None:
        self._offset = _aware(start) - utcnow()

    def now(self) -> datetime:
        return utcnow() + self._offset


class FixedClock:
    """A clock that only moves when told to (tests, `briefbot tick --now`)."""

    def __init__(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**units)
        return self._now


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the clock needs an aware one")
    return moment
