"""The error raised when a text is not a briefing at all, and the parser's warnings.

Recoverable defects are not errors: they become `ParseWarning`s on the issue
(see `briefings.model`), so content is never dropped because of a typo. Each warning
has a stable code in `WARNINGS`, whose English text (with its fields filled in) is the
warning's message: what the archive stores, logs and the CLI print. The message is
read back into its code and fields (`read_warning`), so admins get it in their own
language (bot.i18n), warnings stored before codes existed included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

# code -> English message. Fields are passed already quoted where the message quotes
# them (`repr`), so a message is exactly what the parser always wrote.
WARNINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bad_bytes": "U+FFFD replacement character: bad bytes?",
        "title_not_split": "cannot split {text} into 'title | source'; kept as title",
        "link_recovered": "malformed link in item; title and URL recovered from the text",
        "unclosed_bracket": "unclosed '[' in item",
        "unclosed_paren": "unclosed '(' after the item's link text",
        "empty_link": "empty link target '()' in item",
        "text_after_links": "text after the item's links kept in the summary: {text}",
        "empty_extra_link": "empty link target for {text}",
        "empty_item": "empty list item; kept with a placeholder title",
        "bracket_without_link": "item text in brackets has no link target",
        "not_web_url": "item link target {url} is not an http(s) URL",
        "no_title": "item has no title",
        "unknown_section": "section {heading} is not in the taxonomy; key {section_key}",
        "empty_section": "section {heading} has no entries",
    }
)
_FIELD = re.compile(r"\\\{(\w+)\\\}")  # a `{field}` once re.escape has escaped it
_READERS: Final = tuple(
    (code, re.compile(_FIELD.sub(r"(?P<\1>.*)", re.escape(text)), re.DOTALL))
    for code, text in WARNINGS.items()
)


QUOTE_CHARS: Final = 80  # input quoted in a message: enough to find it, never a megabyte


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut.

    briefings has its own (bot.i18n.clip is the bot's): a message quoting a 1 MB title
    line must stay one short line in the CLI, the logs and a source's error.
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """`repr` of `text` clipped: how an error message quotes input."""
    return repr(clip(text, limit))


def _clip_field(value: str) -> str:
    """A field already quoted with `repr`, cut inside its quotes when too long."""
    if len(value) <= QUOTE_CHARS + 2:
        return value
    if value[:1] in "'\"" and value[-1:] == value[:1]:
        return value[: QUOTE_CHARS - 1] + "…" + value[-1]
    return clip(value)


def warning_message(code: str, **fields: str) -> str:
    """The English message of warning `code` (a KeyError for an unknown code).

    Long fields are clipped: a warning quotes input, and input can be a megabyte line."""
    return WARNINGS[code].format(**{name: _clip_field(value) for name, value in fields.items()})


def read_warning(message: str) -> tuple[str, dict[str, str]]:
    """(code, fields) of a warning message; ("", {}) for one no code writes."""
    for code, reader in _READERS:
        found = reader.fullmatch(message)
        if found is not None:
            return code, found.groupdict()
    return "", {}


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
