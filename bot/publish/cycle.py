"""One scheduler cycle: poll the sources, then publish, archive or hold what is due.

Every configured series is a lane of the cycle: its own publisher (its subscribers),
corrector and schedule; its sources are among the cycle's pollers, each ingesting with
its series' layout. A series whose check fails (or whose source is broken: a poller
never raises) is logged and the next series is checked all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.clock import Clock
from bot.publish.alerts import Notifier
from bot.publish.corrections import CorrectionPlan, Corrector
from bot.publish.publisher import IssuePublisher, Publication
from bot.publish.rule import Decision, decide
from bot.runtime import Runtime
from bot.sources.poller import PollResult, SourcePoller, build_pollers
from storage.issues import IssueSummary, newest_number, unpublished_issues
from storage.search import optimize_index

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeriesLane:
    """One series' part of a cycle: the series' runtime view and who publishes it."""

    runtime: Runtime
    publisher: IssuePublisher
    corrector: Corrector


@dataclass(slots=True)
class CheckReport:
    published: list[Publication] = field(default_factory=list)
    # dates; an undated issue of a numbered series by its label (`#51`)
    archived: list[date | str] = field(default_factory=list)
    held: list[date | str] = field(default_factory=list)
    corrected: list[CorrectionPlan] = field(default_factory=list)
    # issue id -> its series' slug: an undated issue's number means nothing without it
    series_of: dict[int, str] = field(default_factory=dict)

    def summary(self) -> str:
        published = ", ".join(map(self._published_name, self.published)) or "none"
        archived = ", ".join(map(str, self.archived)) or "none"
        held = ", ".join(map(str, self.held)) or "none"
        corrected = ", ".join(str(c.key) for c in self.corrected) or "none"
        return f"published: {published}; archived: {archived}; held: {held}; corrected: {corrected}"

    def _published_name(self, publication: Publication) -> str:
        """`2026-11-16`, or `widgets #3` for an undated issue (never a database id)."""
        if publication.key is not None:
            return str(publication.key)
        slug = self.series_of.get(publication.issue_id, "")
        return f"{slug} {publication.label}".strip()


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
        *,
        lanes: list[SeriesLane] | None = None,
    ) -> None:
        """`publisher` and `corrector` are the primary series'; `lanes` every series'
        (default: the primary series alone)."""
        self.runtime = runtime
        self.clock = clock
        self.pollers = pollers
        self.publisher = publisher
        self.corrector = corrector or Corrector(runtime, clock)
        self.lanes = lanes or [SeriesLane(runtime, publisher, self.corrector)]
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
            for lane in self.lanes:
                try:
                    await self._check_series(lane, now, report)
                except Exception:  # one series' failure must not block the others
                    log.exception("publication check of series %s failed", lane.runtime.series.slug)
            return report

    async def _check_series(self, lane: SeriesLane, now: datetime, report: CheckReport) -> None:
        slug = lane.runtime.series.slug
        async with lane.runtime.sessions() as session:
            candidates = await unpublished_issues(session, slug, now)
            newest = await newest_number(session, slug) if candidates else None
        settings = lane.runtime.settings.publish
        for summary in candidates:
            try:
                decision = decide(summary, now, settings, newest_number=newest)
                await self._act(lane.publisher, summary, decision, report)
            except Exception:  # one issue's failure must not block the others
                log.exception("publication check of %s %s failed", slug, summary.label)
        # Edits of issues already published: the same check, so the same settling.
        report.corrected.extend(await lane.corrector.run())

    async def _act(
        self,
        publisher: IssuePublisher,
        summary: IssueSummary,
        decision: Decision,
        report: CheckReport,
    ) -> None:
        name = summary.key if summary.key is not None else summary.label
        if decision == "archive" and await publisher.archive(summary):
            report.archived.append(name)
        elif decision == "publish":
            outcome = await publisher.publish_issue(summary.id, expected_hash=summary.content_hash)
            if outcome.publication is not None:
                report.published.append(outcome.publication)
                report.series_of[summary.id] = summary.series_slug
            elif outcome.status == "held":
                report.held.append(name)


def build_cycle(
    runtime: Runtime,
    clock: Clock,
    notifier: Notifier | None = None,
    *,
    cache_dir: Path | None = None,
    batch_size: int | None = None,
) -> Cycle:
    """Every series' sources (git checkouts under `cache_dir`), publisher and corrector."""
    lanes: list[SeriesLane] = []
    pollers: list[SourcePoller] = []
    for view in runtime.each_series():
        publisher = IssuePublisher(view, clock, notifier, batch_size=batch_size)
        lanes.append(SeriesLane(view, publisher, Corrector(view, clock)))
        pollers.extend(build_pollers(view, clock, cache_dir))
    primary = lanes[0]
    return Cycle(runtime, clock, pollers, primary.publisher, primary.corrector, lanes=lanes)
