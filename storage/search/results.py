"""What a search returns: pages of hits with marked snippets (see briefings.marks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching entry; `snippet` wraps matched words as \\x02word\\x03."""

    issue_key: date
    section_key: str
    section_heading: str
    title: str
    source: str | None
    url: str | None
    snippet: str
    issue_number: int | None = None  # a numbered series' issue; then `issue_key` may be None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A 1-based page of hits; `total` when known, else `has_more`."""

    query: str
    hits: tuple[SearchHit, ...]
    page: int = 1
    total: int | None = None
    has_more: bool = False
    page_size: int | None = None
