"""The wall clock: one aware UTC `utcnow()` for storage and bot alike.

Functions that stamp rows take `now=None` and fall back to this, so tests pass a time
and production reads the real one. The publication clocks that tests and
`briefbot run --start` move (bot/clock.py) build on it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
