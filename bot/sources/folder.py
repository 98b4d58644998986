"""A directory of briefing files (`*.md`, not recursive), e.g. the embedded `samples/`."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path

from bot.sources.base import Document, SourceError


class FolderSource:
    """Reads every file on each poll; the poller skips files whose bytes did not change."""

    def __init__(self, name: str, path: Path, interval_seconds: int = 300) -> None:
        self.name = name
        self.path = path
        self.interval_seconds = interval_seconds

    async def fetch(self) -> list[Document]:
        return await asyncio.to_thread(self._read)

    async def commit(self, ingested: Collection[str]) -> None:
        return None  # nothing durable to remember: reading a folder is cheap

    def _read(self) -> list[Document]:
        if not self.path.is_dir():
            raise SourceError(f"{self.path} is not a directory")
        documents: list[Document] = []
        for file in sorted(self.path.glob("*.md")):
            try:
                documents.append((str(file), file.read_bytes()))
            except OSError as exc:
                documents.append((str(file), exc))
        return documents
