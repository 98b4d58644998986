"""What the renderers need of a search result, as structural types.

Storage returns `storage.search.SearchPage`; formatters may not import storage (layers:
briefings <- formatters, storage <- bot), so they accept anything shaped like it.
Read-only properties, so frozen dataclasses satisfy them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol


class SearchHitLike(Protocol):
    """One hit; `snippet` marks matched words with briefings.marks."""

    @property
    def issue_key(self) -> date: ...
    @property
    def section_heading(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def snippet(self) -> str: ...


class SearchPageLike(Protocol):
    """A 1-based page of hits; `total` when known, else `has_more`."""

    @property
    def query(self) -> str: ...
    @property
    def hits(self) -> Sequence[SearchHitLike]: ...
    @property
    def page(self) -> int: ...
    @property
    def total(self) -> int | None: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def page_size(self) -> int | None: ...
