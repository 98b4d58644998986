"""Markdown files at HTTP(S) URLs, fetched conditionally (ETag / If-Modified-Since).

The validators of each URL are kept in the shared kv state once its content is in
the archive, so a 304 means nothing to do, also after a restart. A URL whose
content failed to parse keeps no validators: it is downloaded again on the next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sources.base import Document, SourceError
from bot.sources.files import DEFAULT_MAX_BYTES, too_large
from storage.state import get_value, set_value

TIMEOUT_SECONDS = 60.0

Validators = dict[str, str]


class HttpSource:
    def __init__(
        self,
        name: str,
        urls: list[str],
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: int = 300,
        *,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.name = name
        self.urls = list(dict.fromkeys(urls))
        self.interval_seconds = interval_seconds
        self._sessions = sessions
        # total bounds a slow-drip server too; connect fails fast on a dead host
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 15.0))
        self.max_bytes = max_bytes
        self._known: dict[str, Validators] = {}
        self._fetched: dict[str, Validators] = {}

    @property
    def state_key(self) -> str:
        return f"source:{self.name}:http-validators"

    async def fetch(self) -> list[Document]:
        async with self._sessions() as session:
            self._known = dict(await get_value(session, self.state_key, {}) or {})
        self._fetched = {}
        async with aiohttp.ClientSession(timeout=self._timeout) as http:
            results = await asyncio.gather(*(self._get(http, url) for url in self.urls))
        documents = [doc for doc in results if doc is not None]
        errors = [doc for doc in documents if isinstance(doc[1], OSError)]
        if errors and len(errors) == len(self.urls):
            raise SourceError("; ".join(f"{url}: {exc}" for url, exc in errors))
        return documents

    async def commit(self, ingested: Collection[str]) -> None:
        updated = dict(self._known)
        updated.update({url: self._fetched[url] for url in ingested if url in self._fetched})
        if updated != self._known:
            async with self._sessions.begin() as session:
                await set_value(session, self.state_key, updated)
            self._known = updated

    async def _get(self, http: aiohttp.ClientSession, url: str) -> Document | None:
        """The URL's content; None when unchanged (304); an OSError when it failed."""
        try:
            async with http.get(url, headers=_conditional(self._known.get(url, {}))) as response:
                if response.status == 304:
                    return None
                if response.status != 200:
                    return url, OSError(f"HTTP {response.status} {response.reason or ''}".strip())
                if (response.content_length or 0) > self.max_bytes:
                    return url, too_large(response.content_length, self.max_bytes)  # unread
                body = await _read_capped(response.content, self.max_bytes)
                if body is None:
                    return url, too_large(None, self.max_bytes)
                self._fetched[url] = _validators(response.headers)
                return url, body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return url, OSError(f"{type(exc).__name__}: {exc}".rstrip(": "))


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes (a chunked body has no length).

    `read(n)` returns what is buffered, not n bytes, so chunks are gathered up to the cap.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(min(1 << 16, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)


def _conditional(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def _validators(headers: Any) -> Validators:
    found = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
    return {key: value for key, value in found.items() if value}
