"""The contract between a source and its poller."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

# (name, content): the name is the document's path or URL (shown in warnings and errors);
# an OSError stands for a document that could not be read, so it is reported.
Document = tuple[str, bytes | OSError]


class SourceError(Exception):
    """The source cannot be read right now (down, misconfigured): retried with backoff."""


class Source(Protocol):
    name: str
    interval_seconds: int

    async def fetch(self) -> list[Document]:
        """Documents that may have changed since the last `commit` (or SourceError)."""
        ...

    async def commit(self, ingested: Collection[str]) -> None:
        """Remember that these documents (by name) of the last fetch are in the archive."""
        ...
