"""The error raised when a text is not a briefing at all.

Recoverable defects are not errors: they become `ParseWarning`s on the issue
(see `briefings.model`), so content is never dropped because of a typo.
"""

from __future__ import annotations

from datetime import date


def located(path: str, line: int, message: str) -> str:
    """`path:line: message`, or `path: message` for the whole file (line 0)."""
    return f"{path}:{line}: {message}" if line > 0 else f"{path}: {message}"


class BriefingParseError(ValueError):
    """The input cannot be read as a briefing; `line` is 1-based (0 = whole file).

    `unfinished`: the text is an author's placeholder (empty, or a title without
    sections yet), not garbage; sources report it as a warning, not a failure.
    `key`: the issue date the placeholder is for, when its H1 or file name tells (the
    archive remembers having seen it being written).
    """

    def __init__(
        self,
        path: str,
        line: int,
        message: str,
        *,
        unfinished: bool = False,
        key: date | None = None,
    ) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message
        self.unfinished = unfinished
        self.key = key

    def __str__(self) -> str:
        return located(self.path, self.line, self.message)
