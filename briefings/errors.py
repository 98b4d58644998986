"""The error raised when a text is not a briefing at all.

Recoverable defects are not errors: they become `ParseWarning`s on the issue
(see `briefings.model`), so content is never dropped because of a typo.
"""

from __future__ import annotations


class BriefingParseError(ValueError):
    """The input cannot be read as a briefing; `line` is 1-based (0 = whole file)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
