"""Bounded decoding of what a user can send: numbers and callback data.

Every number that comes from a chat, a button or a command-line argument goes through
`read_number` (or `number_or_none`), so the range check happens where the text is
decoded, once per kind, and no handler ever meets an `OverflowError`, a `ValueError`
from `int()` (more than 4300 digits, `²`, `5_000`) or a database integer beyond 64 bits.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from bot.commands.types import CALLBACK_DATA_MAX_BYTES
from bot.i18n import clip

DB_INT_MAX: Final = 2**63 - 1  # PostgreSQL BIGINT; SQLite raises OverflowError beyond it
MAX_PAGE: Final = 10_000  # search pages (5 hits each): far beyond any archive, offset safe
MAX_OFFSET: Final = 1_000_000  # rows skipped by a "more" button
LOG_CHARS: Final = 200  # user text in a log line

# ASCII only: int() also accepts other scripts' digits, signs, spaces and underscores,
# which a button never carries and a typed choice never needs.
_NUMBER = re.compile(r"(-?)0*([0-9]+)")
_MAX_DIGITS = len(str(DB_INT_MAX))


class NumberError(ValueError):
    """`text` is not a whole number (`code` "not_number") or outside [low, high]."""

    def __init__(
        self, code: Literal["not_number", "out_of_range"], text: str, low: int, high: int
    ) -> None:
        super().__init__(code)
        self.code = code
        self.text = text
        self.low = low
        self.high = high

    def __str__(self) -> str:
        shown = clip(self.text)
        if self.code == "not_number":
            return f"expected a whole number, got {shown!r}"
        return f"expected {self.low}..{self.high}, got {shown}"


def read_number(text: str, low: int, high: int) -> int:
    """`text` (ASCII digits, optional minus) as an int in [low, high]; else NumberError.

    Digits are counted before `int()` runs, so a 100 KB number costs nothing.
    """
    if low < -DB_INT_MAX or high > DB_INT_MAX:  # a caller's bug, not the user's
        raise ValueError(f"bounds {low}..{high} beyond a database integer")
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise NumberError("not_number", text, low, high)
    sign, digits = match.groups()
    if len(digits) > _MAX_DIGITS:
        raise NumberError("out_of_range", text, low, high)
    value = -int(digits) if sign else int(digits)
    if not low <= value <= high:
        raise NumberError("out_of_range", text, low, high)
    return value


def number_or_none(text: str, low: int, high: int) -> int | None:
    """`read_number` for callback data, where any bad value means a stale or forged button."""
    try:
        return read_number(text, low, high)
    except NumberError:
        return None


def callback_fields(data: str) -> tuple[str, list[str]] | None:
    """`prefix:a:b` -> ("prefix", ["a", "b"]); None for data no button of ours carries."""
    if not data or len(data) > CALLBACK_DATA_MAX_BYTES:  # checked before encoding a megabyte
        return None
    if len(data.encode("utf-8", "surrogatepass")) > CALLBACK_DATA_MAX_BYTES:
        return None
    prefix, _, rest = data.partition(":")
    return prefix, rest.split(":") if rest else []
