"""The renderer interface shared by every platform: messages, limits, labels."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from briefings.model import Entry, Issue, Section

from .search import SearchPageLike

Format = Literal["html", "text", "markdown"]
SizeUnit = Literal["utf16", "bytes", "chars"]


@dataclass(frozen=True, slots=True)
class Message:
    """One ready-to-send message; `size` is measured the way its platform limits it."""

    text: str
    format: Format
    size: int
    unit: SizeUnit
    disable_preview: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-message limits; `max_size=None` means unlimited."""

    max_size: int | None
    unit: SizeUnit
    max_entities: int | None = None


TELEGRAM_LIMITS = Limits(4096, "utf16", 100)
WECHAT_LIMITS = Limits(2048, "bytes")
WECOM_APP_LIMITS = Limits(2048, "bytes")
WECOM_ROBOT_LIMITS = Limits(4096, "bytes")
CONSOLE_LIMITS = Limits(None, "chars")


@dataclass(frozen=True, slots=True)
class Labels:
    """UI words; `{...}` fields are filled with str.format."""

    continued: str
    summary: str
    intro: str
    quick_news: str
    contents: str
    entry_count: str
    entry_count_one: str  # English says "1 entry", "3 entries"
    total: str
    total_one: str
    topics: str
    image: str
    search: str
    results: str
    results_one: str
    page: str
    page_of: str
    more: str
    no_results: str
    colon: str
    separator: str
    read_on_web: str

    def entries(self, count: int) -> str:
        return (self.entry_count_one if count == 1 else self.entry_count).format(count=count)

    def total_entries(self, count: int) -> str:
        return (self.total_one if count == 1 else self.total).format(count=count)

    def result_count(self, total: int) -> str:
        return (self.results_one if total == 1 else self.results).format(total=total)


ZH = Labels(
    continued="{heading}（续）",
    summary="摘要",
    intro="导读",
    quick_news="快讯",
    contents="目录",
    entry_count="{count} 条",
    entry_count_one="{count} 条",
    total="共 {count} 条",
    total_one="共 {count} 条",
    topics="标签",
    image="图片",
    search="搜索“{query}”",
    results="共 {total} 条结果",
    results_one="共 {total} 条结果",
    page="第 {page} 页",
    page_of="第 {page}/{pages} 页",
    more="还有更多结果",
    no_results="没有找到相关内容。",
    colon="：",
    separator="、",
    read_on_web="在网页上阅读",
)

EN = Labels(
    continued="{heading} (continued)",
    summary="Summary",
    intro="Overview",
    quick_news="Quick news",
    contents="Contents",
    entry_count="{count} entries",
    entry_count_one="{count} entry",
    total="{count} entries in total",
    total_one="{count} entry in total",
    topics="Topics",
    image="image",
    search="Search “{query}”",
    results="{total} results",
    results_one="{total} result",
    page="page {page}",
    page_of="page {page} of {pages}",
    more="more results available",
    no_results="Nothing found.",
    colon=": ",
    separator=", ",
    read_on_web="Read on the web",
)


class Renderer(Protocol):
    """Pure functions from the domain model to ordered, ready-to-send messages."""

    @property
    def limits(self) -> Limits: ...

    @property
    def labels(self) -> Labels: ...

    def with_limits(self, limits: Limits) -> Renderer:
        """The same renderer with other limits (same size unit)."""
        ...

    def with_web(self, public_url: str) -> Renderer:
        """The same renderer, with a "read on the web" link under each issue's header
        when `public_url` (the public web archive's address) is set."""
        ...

    def issue(self, issue: Issue) -> list[Message]:
        """The whole issue: header, preamble and every section."""
        ...

    def sections(self, issue: Issue, keys: Iterable[str]) -> list[Message]:
        """The issue header and the named sections, in issue order."""
        ...

    def for_subscriber(
        self, issue: Issue, *, sections: Collection[str] = (), topics: Collection[str] = ()
    ) -> list[Message]:
        """Entries whose section is in `sections` or whose topics meet `topics`; [] if none."""
        ...

    def digest(self, issue: Issue) -> list[Message]:
        """Titles and links only."""
        ...

    def entry(self, issue: Issue, section: Section, entry: Entry) -> list[Message]: ...

    def search_results(self, page: SearchPageLike) -> list[Message]: ...

    def overview(self, issue: Issue) -> list[Message]:
        """Header, 导读 and a table of contents with entry counts (for /latest)."""
        ...

    def service(self, text: str) -> list[Message]:
        """Caller-supplied plain text (help, confirmations, errors), escaped."""
        ...
