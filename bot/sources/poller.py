"""Polls one source into the archive; a failing source backs off and never raises.

A poll fails (logged, next attempt delayed: interval x 1, 2, 4, ... up to an hour)
when the source cannot be fetched or when everything new it returned is garbage
(some document failed and none parsed). An author's placeholder (empty file, title
without sections) or a non-file (FIFO, device, socket) is skipped with a warning and
does not fail the poll. Documents are remembered by content hash (a skipped non-file
by its reason) in memory, so the same bytes are parsed (and a bad file reported) once
per process, not every poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.config import Settings, SourceSettings
from bot.ingest import IngestReport, ingest_documents
from bot.runtime import Runtime
from bot.sources.base import Document, Source, SourceError
from bot.sources.files import Skipped
from bot.sources.folder import FolderSource
from bot.sources.git import GitSource
from bot.sources.http import HttpSource

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class PollResult:
    source: str
    ok: bool
    fetched: int = 0  # documents the source returned
    report: IngestReport | None = None  # None when nothing could be fetched
    error: str | None = None

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.source}: FAILED {self.error}"
        counts = self.report.summary() if self.report else "nothing new"
        return f"{self.source}: {self.fetched} fetched, {counts}"


class SourcePoller:
    def __init__(self, source: Source, runtime: Runtime, clock: Clock) -> None:
        self.source = source
        self._runtime = runtime
        self._clock = clock
        self._seen: dict[str, str] = {}  # document name -> sha256 of the bytes last ingested
        self.failures = 0
        self.retry_at: datetime | None = None
        self._busy = asyncio.Lock()  # one poll of a source at a time (one checkout, one cursor)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def interval_seconds(self) -> int:
        return self.source.interval_seconds

    def ready(self, now: datetime) -> bool:
        # A little slack, so a job firing on the interval is not skipped for jitter.
        slack = timedelta(seconds=self.interval_seconds / 10)
        return self.retry_at is None or now + slack >= self.retry_at

    async def poll(self, *, force: bool = False) -> PollResult | None:
        """Fetch and ingest; None when backing off or already polling (unless `force`)."""
        if not force and (self._busy.locked() or not self.ready(self._clock.now())):
            return None
        async with self._busy:
            return await self._guarded()

    async def _guarded(self) -> PollResult:
        now = self._clock.now()
        try:
            result = await self._poll(now)
        except SourceError as exc:  # expected (down, misconfigured): `_after` logs it
            result = PollResult(self.name, ok=False, error=str(exc))
        except Exception as exc:  # a source must never take the bot down
            log.exception("source %s failed", self.name)
            result = PollResult(self.name, ok=False, error=f"{type(exc).__name__}: {exc}")
        self._after(result, now)
        return result

    async def _poll(self, now: datetime) -> PollResult:
        documents = await self.source.fetch()
        fresh = [doc for doc in documents if self._is_new(doc)]
        if not fresh:
            return PollResult(self.name, ok=True, fetched=len(documents))
        # Sources that fetch only what changed (git) say which other documents they have.
        holds = getattr(self.source, "holds", None)
        report = await ingest_documents(self._runtime, fresh, now, holds=holds)
        failed = {failure.path for failure in report.failures}
        await self.source.commit([name for name, _ in fresh if name not in failed])
        for name, data in fresh:
            if isinstance(data, bytes | Skipped):
                self._seen[name] = _fingerprint(data)
        _log_report(self.name, report)
        usable = report.added + report.updated + report.unchanged
        garbage = report.failed > 0 and usable == 0
        error = f"nothing usable: {report.failures[0]}" if garbage else None
        return PollResult(self.name, not garbage, len(documents), report, error)

    def _is_new(self, document: Document) -> bool:
        name, data = document
        if not isinstance(data, bytes | Skipped):
            return True  # a read error is reported every poll until it is fixed
        return self._seen.get(name) != _fingerprint(data)

    def _after(self, result: PollResult, now: datetime) -> None:
        if result.ok:
            self.failures, self.retry_at = 0, None
            return
        self.failures += 1
        delay = min(
            self.interval_seconds * 2 ** (self.failures - 1),
            max(MAX_BACKOFF_SECONDS, self.interval_seconds),
        )
        self.retry_at = now + timedelta(seconds=delay)
        log.error(
            "source %s: %s (failure %d, next try after %ss)",
            self.name,
            result.error,
            self.failures,
            delay,
        )


def _fingerprint(data: bytes | Skipped) -> str:
    if isinstance(data, Skipped):
        return f"skipped: {data}"
    return hashlib.sha256(data).hexdigest()


def _log_report(name: str, report: IngestReport) -> None:
    for failure in report.failures:
        log.warning("source %s: %s", name, failure)
    for warning in report.warnings:
        log.warning("source %s: warning %s", name, warning)
    if report.added or report.updated:
        log.info("source %s: %s (%s)", name, report.summary(), ", ".join(report.changed_keys))


# --- building from settings ---------------------------------------------------------


def data_dir(settings: Settings) -> Path:
    """The SQLite database's folder, or ./data for other databases."""
    url = make_url(settings.storage.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database or "").expanduser().resolve().parent
    return Path("data").resolve()


def source_name(config: SourceSettings, index: int) -> str:
    if config.name:
        return config.name
    where = config.path if config.kind == "folder" else config.url or ",".join(config.urls)
    return f"{config.kind}-{index}:{where}"[:120]


def build_source(config: SourceSettings, name: str, runtime: Runtime, cache_dir: Path) -> Source:
    max_bytes = runtime.settings.ingest.max_file_bytes
    if config.kind == "folder":
        return FolderSource(name, Path(config.path), config.interval_seconds, max_bytes=max_bytes)
    if config.kind == "git":
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60] or "repo"
        tag = hashlib.sha256(f"{config.url}\n{config.branch}".encode()).hexdigest()[:10]
        return GitSource(
            name,
            config.url,
            config.branch,
            config.path,
            cache_dir / f"{slug}-{tag}",
            runtime.sessions,
            config.interval_seconds,
            max_bytes=max_bytes,
        )
    return HttpSource(
        name, config.urls, runtime.sessions, config.interval_seconds, max_bytes=max_bytes
    )


def build_pollers(
    runtime: Runtime, clock: Clock, cache_dir: Path | None = None
) -> list[SourcePoller]:
    """One poller per `[[sources]]` entry; git checkouts go to `<data dir>/sources/`."""
    cache = cache_dir or data_dir(runtime.settings) / "sources"
    pollers = []
    for index, config in enumerate(runtime.settings.sources):
        name = source_name(config, index)
        pollers.append(SourcePoller(build_source(config, name, runtime, cache), runtime, clock))
    return pollers
