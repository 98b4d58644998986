"""A directory of briefing files (`*.md`, not recursive), e.g. the embedded `samples/`."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path

from bot.sources.base import Document, SourceError
from bot.sources.files import DEFAULT_MAX_BYTES, read_document


class FolderSource:
    """Reads every file on each poll; the poller skips files whose bytes did not change.

    Only regular files are read, each at most `max_bytes` (see `bot.sources.files`):
    a FIFO, device, socket or a symlink to one is reported as skipped, never opened
    for a blocking read.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        interval_seconds: int = 300,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.name = name
        self.path = path
        self.interval_seconds = interval_seconds
        self.max_bytes = max_bytes

    async def fetch(self) -> list[Document]:
        return await asyncio.to_thread(self._read)

    async def commit(self, ingested: Collection[str]) -> None:
        return None  # nothing durable to remember: reading a folder is cheap

    def _read(self) -> list[Document]:
        if not self.path.exists():
            raise SourceError(f"folder {self.path} does not exist (not a directory)")
        if not self.path.is_dir():
            raise SourceError(f"{self.path} is not a directory")
        return [read_document(file, self.max_bytes) for file in sorted(self.path.glob("*.md"))]
