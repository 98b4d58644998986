"""One scheduler cycle: poll the sources, then publish, archive or hold what is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.clock import Clock
from bot.publish.alerts import Notifier
from bot.publish.corrections import CorrectionPlan, Corrector
from bot.publish.publisher import IssuePublisher, Publication
from bot.publish.rule import Decision, decide
from bot.runtime import Runtime
from bot.sources.poller import PollResult, SourcePoller, build_pollers
from storage.issues import IssueSummary, unpublished_issues
from storage.search import optimize_index

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CheckReport:
    published: list[Publication] = field(default_factory=list)
    archived: list[date] = field(default_factory=list)
    held: list[date] = field(default_factory=list)
    corrected: list[CorrectionPlan] = field(default_factory=list)

    def summary(self) -> str:
        published = ", ".join(str(p.key) for p in self.published) or "none"
        archived = ", ".join(map(str, self.archived)) or "none"
        held = ", ".join(map(str, self.held)) or "none"
        corrected = ", ".join(str(c.key) for c in self.corrected) or "none"
        return f"published: {published}; archived: {archived}; held: {held}; corrected: {corrected}"


@dataclass(slots=True)
class CycleReport:
    polls: list[PollResult]
    check: CheckReport


class Cycle:
    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        pollers: list[SourcePoller],
        publisher: IssuePublisher,
        corrector: Corrector | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.pollers = pollers
        self.publisher = publisher
        self.corrector = corrector or Corrector(runtime, clock)
        self._checking = asyncio.Lock()
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Until no poll or check is running (a graceful stop lets them finish)."""
        await self._idle.wait()

    async def run_once(self) -> CycleReport:
        """Poll every source (ignoring backoff), then check; also the start-up catch-up."""
        async with self._busy():
            polls = await self.poll_all(force=True)
            report = CycleReport(polls, await self.check())
        log.info(
            "cycle at %s: %s",
            self.clock.now().isoformat(timespec="seconds"),
            report.check.summary(),
        )
        return report

    async def poll_all(self, *, force: bool = False) -> list[PollResult]:
        results = await asyncio.gather(*(p.poll(force=force) for p in self.pollers))
        return [r for r in results if r is not None]

    async def poll(self, poller: SourcePoller) -> PollResult | None:
        async with self._busy():
            return await poller.poll()

    async def maintain(self) -> None:
        """Compact the search index (ingest adds to it issue by issue, which fragments it)."""
        async with self._busy(), self.runtime.sessions.begin() as session:
            await optimize_index(session)
        log.info("search index optimized")

    async def check(self) -> CheckReport:
        """Publish every settled, due issue once; archive stale ones; hold unfinished ones;
        correct published ones edited within the corrections window."""
        async with self._busy(), self._checking:
            report = CheckReport()
            now = self.clock.now()
            async with self.runtime.sessions() as session:
                candidates = await unpublished_issues(session, self.runtime.series.slug, now)
            settings = self.runtime.settings.publish
            for summary in candidates:
                try:
                    await self._act(summary, decide(summary, now, settings), report)
                except Exception:  # one issue's failure must not block the others
                    log.exception("publication check of %s failed", summary.key)
            # Edits of issues already published: the same check, so the same settling.
            report.corrected = await self.corrector.run()
            return report

    async def _act(self, summary: IssueSummary, decision: Decision, report: CheckReport) -> None:
        if decision == "archive" and await self.publisher.archive(summary):
            report.archived.append(summary.key)
        elif decision == "publish":
            outcome = await self.publisher.publish_issue(
                summary.id, expected_hash=summary.content_hash
            )
            if outcome.publication is not None:
                report.published.append(outcome.publication)
            elif outcome.status == "held":
                report.held.append(summary.key)


def build_cycle(
    runtime: Runtime,
    clock: Clock,
    notifier: Notifier | None = None,
    *,
    cache_dir: Path | None = None,
    batch_size: int | None = None,
) -> Cycle:
    """Sources from the settings (git checkouts under `cache_dir`) and a publisher."""
    publisher = IssuePublisher(runtime, clock, notifier, batch_size=batch_size)
    return Cycle(runtime, clock, build_pollers(runtime, clock, cache_dir), publisher)
