"""Shared pieces of the sub-commands: handler type, output helpers, time parsing.

Imported by every `register`, so it stays light: the standard library and `bot.i18n` only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from bot.i18n import clip

if TYPE_CHECKING:  # the runtime pulls in SQLAlchemy: handlers get one, parsers never need it
    from bot.runtime import Runtime

Handler = Callable[[argparse.Namespace, "Runtime"], Awaitable[int]]
Subparsers = Any  # argparse's _SubParsersAction is private

# The clock may be set anywhere in here: days, weeks and time zones can be added to it
# without leaving datetime's years 1..9999 (an OverflowError deep in a scheduler cycle).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def fail(message: str, code: int = 1) -> int:
    print(f"briefbot: {message}", file=sys.stderr)
    return code


def parse_moment(text: str, timezone: str) -> datetime:
    """An aware ISO-8601 time; without an offset it is local to `timezone`.

    ValueError (one line, the text clipped) when it is not a time or lies outside
    1970..8999, including times that only overflow once converted to UTC.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        example = "2026-11-16T08:59"
        raise ValueError(f"expected an ISO time such as {example}, got {clip(text)!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    try:
        in_range = EARLIEST <= moment.astimezone(UTC) < LATEST
    except OverflowError:  # 0001-01-01T00:00+08:00 has no UTC time
        in_range = False
    if not in_range:
        raise ValueError(f"{clip(text)} is out of range: use a time from 1970 to 8999")
    return moment
