"""What `/preview correction` shows admins: the correction an edit of a published issue
would make, planned by `Corrector.correct(..., dry_run=True)` (nothing written or sent).

The checks before the plan are those of the automatic corrections (bot/publish/
corrections.py): the issue was pushed, readers do not have its current content,
corrections are on (the configuration, then the admins' switch) and the window has not
passed. An edit that has not settled yet is planned all the same, with the time it would
go out, so an admin can look before it does. The answer is data; the command core says
it in the admin's language.

Any configured series: the issue is found in the series named (its own corrector, for
its subscribers' renderings), by date or, in a numbered series, by number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.publish.corrections import CorrectionPlan, Corrector
from briefings.model import Issue
from storage.corrections import ChangedIssue
from storage.issues import (
    IssueSummary,
    find_issue_id,
    find_numbered_id,
    get_summary,
    issue_label,
    list_issues,
    load_issue,
)
from storage.publication import is_archived_hash
from storage.switches import corrections_switch

if TYPE_CHECKING:
    from bot.runtime import Runtime

RECENT = 20  # issues scanned for the newest published one

CorrectionState = Literal[
    "unknown",  # no such issue (or, no key: no published issue among the newest)
    "unpublished",  # never pushed (or archived without a push): nothing to correct
    "current",  # readers have the current content
    "off",  # publish.corrections is false: an edit only updates the archive
    "switched_off",  # an admin's `/corrections off` (storage/switches.py): the same
    "window_passed",  # edited after publish.corrections_window_hours
    "planned",  # `plan` says what would go out
]


@dataclass(frozen=True, slots=True)
class CorrectionPreview:
    # None: no key given and no published issue found, or a numbered series' issue
    # without a date (`number` names it)
    key: date | None
    state: CorrectionState
    window_hours: float = 0.0
    published_at: datetime | None = None
    settles_at: datetime | None = None  # "planned", edit not settled: when it would go out
    plan: CorrectionPlan | None = None
    issue: Issue | None = None  # "planned": the edit, which the correction message names
    number: int | None = None  # a numbered series' issue (the one asked for when unknown)

    @property
    def label(self) -> str:
        """`2026-11-16`, `#51` or `#51 (2026-11-16)`; "" for no issue at all."""
        if self.key is None and self.number is None:
            return ""
        return issue_label(self.key, self.number)


class CorrectionPreviewer:
    """Plans the correction of a published issue for `/preview correction [KEY]`."""

    def __init__(self, runtime: Runtime, corrector: Corrector | None = None) -> None:
        from bot.clock import SystemClock

        self._runtime = runtime
        # `correct` takes the time it plans for; the clock is only the scheduler's.
        self._corrector = corrector or Corrector(runtime, SystemClock())

    async def preview(
        self, key: date | int | None, now: datetime, series: str = ""
    ) -> CorrectionPreview:
        """The correction of issue `key` (a date; an int: a numbered series' issue number;
        None: the newest published issue) of `series` (a configured slug; "" or this
        previewer's own: this series) at `now`."""
        if series and series != self._runtime.series.slug:
            return await self._in_series(series).preview(key, now)
        settings = self._runtime.settings.publish
        hours = settings.corrections_window_hours
        async with self._runtime.sessions() as session:
            summary = await self._summary(session, key)
            switched_on = (await corrections_switch(session)).on
        if summary is None:
            day, number = (None, key) if isinstance(key, int) else (key, None)
            return CorrectionPreview(day, "unknown", hours, number=number)
        state = self._state(summary, switched_on, now)
        if state is not None:
            return self._said(summary, state, summary.published_at)
        assert summary.published_hash is not None  # else _state said "unpublished"
        changed = ChangedIssue(
            summary.id, summary.key, summary.published_hash, summary.content_hash
        )
        plan = await self._corrector.correct(changed, now, dry_run=True)
        async with self._runtime.sessions() as session:
            issue = await load_issue(session, summary.id)
        if plan is None or issue is None:  # deleted meanwhile
            return self._said(summary, "unknown")
        settles = summary.content_changed_at + timedelta(minutes=settings.settle_minutes)
        return replace(
            self._said(summary, "planned", summary.published_at),
            settles_at=settles if settles > now else None,
            plan=plan,
            issue=issue,
        )

    def _state(
        self, summary: IssueSummary, switched_on: bool, now: datetime
    ) -> CorrectionState | None:
        """Why there is nothing to plan; None: plan it."""
        settings = self._runtime.settings.publish
        published, at = summary.published_hash, summary.published_at
        if at is None or published is None or is_archived_hash(published):
            return "unpublished"
        if published == summary.content_hash:
            return "current"
        if not settings.corrections:
            return "off"
        if not switched_on:
            return "switched_off"
        if at < now - timedelta(hours=settings.corrections_window_hours):
            return "window_passed"
        return None

    def _said(
        self, summary: IssueSummary, state: CorrectionState, at: datetime | None = None
    ) -> CorrectionPreview:
        # "unpublished" says no time: an archived issue's time is not a publication's
        at = None if state == "unpublished" else at
        hours = self._runtime.settings.publish.corrections_window_hours
        return CorrectionPreview(summary.key, state, hours, at, number=summary.number)

    def _in_series(self, slug: str) -> CorrectionPreviewer:
        """The previewer of another configured series (its issues, its renderings)."""
        view = self._runtime.for_series(slug)
        if view is None:  # the command core only names configured series
            raise ValueError(f"no series {slug!r}")
        return CorrectionPreviewer(view)

    async def _summary(self, session: AsyncSession, key: date | int | None) -> IssueSummary | None:
        slug = self._runtime.series.slug
        if key is None:
            recent = await list_issues(session, slug, limit=RECENT)
            pushed = (
                s
                for s in recent
                if s.published_at is not None and not is_archived_hash(s.published_hash)
            )
            return next(pushed, None)
        if isinstance(key, int):  # a numbered series' issue, dated or not
            issue_id = await find_numbered_id(session, slug, key)
        else:
            issue_id = await find_issue_id(session, slug, key)
        return None if issue_id is None else await get_summary(session, issue_id)
