"""Frozen domain objects for a briefing series, its issues, sections and entries.

Everything here is pure data: parsing, tagging and rendering produce or consume
these objects, storage maps them to rows. Markdown fields keep the source text
(inline markdown, hard line breaks) so each renderer can decide how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from briefings.errors import located, read_warning


@dataclass(frozen=True, slots=True)
class Series:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class Link:
    """An extra labelled link of an entry, e.g. 论文 / 代码 / 网站 / 项目."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A recoverable defect: the content was kept, but a human should look.

    `unfinished`: the defect is what a half-written issue looks like (an unclosed link or
    bracket, a link with no target yet, an empty item or section), so the issue is held
    for an admin. Otherwise the parser repaired it (stray text after a link, a title it
    could not split, an unknown section) and the issue goes out; admins are told.
    """

    path: str
    line: int
    message: str
    unfinished: bool = False

    def __str__(self) -> str:
        return located(self.path, self.line, self.message)

    @property
    def code(self) -> str:
        """The stable code of briefings.errors.WARNINGS ("" for a message no code writes)."""
        return read_warning(self.message)[0]

    @property
    def params(self) -> dict[str, str]:
        """The values the message was written with, by name, as it quotes them."""
        return read_warning(self.message)[1]


@dataclass(frozen=True, slots=True)
class Entry:
    position: int
    title: str
    source: str | None = None
    url: str | None = None
    summary: str = ""  # markdown, without the leading 摘要：
    links: tuple[Link, ...] = ()
    arxiv_id: str | None = None
    topics: tuple[str, ...] = ()
    line: int = 0  # 1-based line of the item in the source file


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # stable slug, e.g. "papers"
    heading: str  # as written, e.g. "论文"
    position: int
    entries: tuple[Entry, ...] = ()
    notes: tuple[str, ...] = ()  # section text outside entries (e.g. "注：..." lines), markdown


@dataclass(frozen=True, slots=True)
class IssueKey:
    """What identifies an issue in its series: a number (`第 300 期`), a date, or both.

    Ordered by number when there is one (numbered series), else by date.
    """

    number: int | None = None
    day: date | None = None

    def __post_init__(self) -> None:
        if self.number is None and self.day is None:
            raise ValueError("an issue key needs a number or a date")

    def sort_key(self) -> tuple[int, date]:
        # None sorts first rather than failing: a series keeps one kind of key anyway
        return (-1 if self.number is None else self.number, self.day or date.min)

    def __lt__(self, other: IssueKey) -> bool:
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        if self.number is None:
            return str(self.day)
        return f"#{self.number}" + (f" ({self.day})" if self.day else "")


@dataclass(frozen=True, slots=True)
class Issue:
    series: Series
    # The issue date. Date-keyed series (the Embedded AI layout) always have one and it is
    # unique within the series: storage's `key` column. An issue of a numbered series has
    # one only when its layout finds one, so `key` may be None there; it has a `number`.
    key: date | None
    title: str  # the H1 as written
    subtitle: str = ""
    tagline: str = ""
    intro: str = ""  # 导读 markdown
    quick_news: tuple[str, ...] = ()  # markdown of each bullet before the first section
    notes: tuple[str, ...] = ()  # other preamble text (e.g. "注：..." lines)
    sections: tuple[Section, ...] = ()
    source_path: str = ""
    content_hash: str = ""
    warnings: tuple[ParseWarning, ...] = field(default=())
    front_matter: str = ""  # raw text between the leading '---' fences, if any
    footer: str = ""  # markdown after the closing '----' rule (editor, licence), verbatim
    # The issue number of a numbered series (`第 300 期`, `#300`); None in a date-keyed one.
    number: int | None = None

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def with_sections(self, sections: tuple[Section, ...]) -> Issue:
        return replace(self, sections=sections)
