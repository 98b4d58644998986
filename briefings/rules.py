"""A `Layout` compiled for the parser: its regular expressions built once per layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from briefings.layout import Layout
from briefings.taxonomy import normalize_name

# Boilerplate patterns are the curator's, not the author's: a line is matched on its
# first characters only, so a pattern that backtracks cannot be fed a megabyte line.
BOILERPLATE_SPAN: Final = 1000
DATE_LINE_SPAN: Final = 200  # `Published 2026-01-09` is short: a longer line is prose
# The issue number leads its title (`第 300 期`, `This Week in X 301: ...`): a curator's
# `title_number` pattern reads this much of the H1, so `(?P<n>\d+)\s*期`, which restarts
# at every digit of a megabyte of digits, is not quadratic in the H1's length.
NUMBER_SPAN: Final = 1000

_BULLET = re.compile(r"^[-*+](?:[ \t]+(.*))?$")  # a bare marker is an (empty) item too
# `1、[title](url)`, `1. title`, `**1、Title**`, at column 0 (an indented `1.` is a nested
# list). The `.` needs a space after it, so a date (`2026.01.09`) or a version (`1.2`)
# does not start an entry; three digits at most, so a year (`1999、…`) does not either.
_NUMBERED = re.compile(
    r"^(?:(?P<open>\*\*|__)[ \t]*)?\d{1,3}[ \t]*"
    r"(?P<mark>[、．)）]|\.(?=[ \t]|$))[ \t]*(?P<rest>.*)$"
)
# the marker's delimiter is its style: `1、` entries and a `1.` list in a summary differ
_DELIMITER_STYLE: Final = MappingProxyType(
    {"、": "numbered、", "．": "numbered.", ".": "numbered.", ")": "numbered)", "）": "numbered)"}
)
_TEXT_DATE = r"(\d{4})(?:[-./]|年\s*)(\d{1,2})(?:[-./]|月\s*)(\d{1,2})(?!\d)"


def _labels(labels: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(label) for label in labels)
    return re.compile(rf"^(?:{alternatives})\s*[：:]\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rules:
    layout: Layout
    summary_label: re.Pattern[str]
    intro_label: re.Pattern[str]
    title_number: tuple[re.Pattern[str], ...]
    name_number: tuple[re.Pattern[str], ...]
    boilerplate: tuple[re.Pattern[str], ...]
    navigation: frozenset[str]
    cover: frozenset[str]

    @property
    def flat(self) -> bool:
        return self.layout.sections == "flat"

    def is_boilerplate(self, line: str) -> bool:
        head = line[:BOILERPLATE_SPAN]
        return any(pattern.search(head) for pattern in self.boilerplate)

    def entry_head(self, line: str, heading: tuple[int, str] | None) -> str | None:
        """The item text when `line` starts an entry in this layout, else None."""
        found = self.entry_marker(line, heading)
        return None if found is None else found[1]

    def entry_marker(
        self, line: str, heading: tuple[int, str] | None, *, inside: str | None = None
    ) -> tuple[str, str] | None:
        """(marker style, item text) when `line` starts an entry in this layout, else None.

        Styles: `heading`, `bullet` (`-`, `*`, `+` alike) and `numbered` with its
        delimiter (`numbered、`, `numbered.`, `numbered)`). `inside` is the style of the
        entry open before `line`: a list of another style (`1.` or `-` after
        `1、[title](url)`) is that entry's summary, not new entries; a `###` entry heading
        ends any entry, as a heading ends a list."""
        found = self._marker(line, heading)
        if found is None or inside is None or found[0] in (inside, "heading"):
            return found
        return None

    def _marker(self, line: str, heading: tuple[int, str] | None) -> tuple[str, str] | None:
        styles = self.layout.entries
        if heading is not None:
            if heading[0] != 3 or "heading" not in styles:
                return None
            # with bullets as entries too, a plain `### Official` groups the bullets under it
            linked = "](" in heading[1] or "bullet" not in styles
            return ("heading", heading[1]) if linked else None
        if "bullet" in styles:
            bullet = _BULLET.match(line)
            if bullet:
                return "bullet", bullet.group(1) or ""
        if "numbered" in styles:
            numbered = _NUMBERED.match(line)
            if numbered:
                style = _DELIMITER_STYLE[numbered.group("mark")]
                return style, _unbold(numbered.group("open"), numbered.group("rest"))
        return None


def _unbold(opener: str | None, rest: str) -> str:
    """`**1、Title** tail` -> `Title tail`: the bold marks the number, not the title."""
    rest = rest.strip()
    if not opener:
        return rest
    close = rest.find(opener)
    if close < 0:
        return rest
    return f"{rest[:close].strip()} {rest[close + len(opener) :].strip()}".strip()


@lru_cache(maxsize=64)
def _date_line(labels: tuple[str, ...]) -> re.Pattern[str]:
    """`Published 2026-01-09`, `**发布日期**：2026年1月9日`, `> Date: 2026.01.09`."""
    longest_first = sorted(labels, key=len, reverse=True)  # `Published on` before `Published`
    alternatives = "|".join(re.escape(label) for label in longest_first)
    return re.compile(
        # one run of spaces and emphasis between label and date, so a megabyte of spaces
        # after a label is scanned once, not split every way between several `\s*`
        # possessive: the emphasis runs before and after the colon overlap, and letting
        # them trade characters made `Date****...` quadratic in the line's length
        rf"^[>\s]*+[*_]*+(?:{alternatives})[*_]*+(?:\s*+[：:])?[\s*_]*+{_TEXT_DATE}",
        re.IGNORECASE,
    )


def labelled_date(lines: list[str], labels: tuple[str, ...]) -> tuple[int, int, int] | None:
    """(year, month, day) of the first line of `lines` that starts with a label, then a date.

    Only a labelled line: a date in prose (`Ten years ago, on 2016-11-27, ...`) is about
    something else, and keying the issue by it would archive it under the wrong date.
    """
    if not labels:
        return None
    pattern = _date_line(labels)
    for line in lines:
        found = pattern.match(line[:DATE_LINE_SPAN])
        if found:
            return int(found[1]), int(found[2]), int(found[3])
    return None


@lru_cache(maxsize=64)
def compile_rules(layout: Layout) -> Rules:
    return Rules(
        layout=layout,
        summary_label=_labels(layout.summary_labels or ("摘要",)),
        intro_label=_labels(layout.intro_labels or ("导读",)),
        title_number=tuple(re.compile(p) for p in layout.title_number),
        name_number=tuple(re.compile(p) for p in layout.name_number),
        boilerplate=tuple(re.compile(p) for p in layout.boilerplate),
        navigation=frozenset(normalize_name(h) for h in layout.navigation_headings),
        cover=frozenset(normalize_name(h) for h in layout.cover_headings),
    )
