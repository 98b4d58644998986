"""What `/preview correction` shows admins: the correction an edit of a published issue
would make, planned by `Corrector.correct(..., dry_run=True)` (nothing written or sent).

The checks before the plan are those of the automatic corrections (bot/publish/
corrections.py): the issue was pushed, readers do not have its current content,
corrections are on (the configuration, then the admins' switch) and the window has not
passed. An edit that has not settled yet is planned all the same, with the time it would
go out, so an admin can look before it does. The answer is data; the command core says
it in the admin's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.publish.corrections import CorrectionPlan, Corrector
from briefings.model import Issue
from storage.corrections import ChangedIssue
from storage.issues import IssueSummary, find_issue_id, get_summary, list_issues, load_issue
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
    key: date | None  # None: no key given and no published issue found
    state: CorrectionState
    window_hours: float = 0.0
    published_at: datetime | None = None
    settles_at: datetime | None = None  # "planned", edit not settled: when it would go out
    plan: CorrectionPlan | None = None
    issue: Issue | None = None  # "planned": the edit, which the correction message names


class CorrectionPreviewer:
    """Plans the correction of a published issue for `/preview correction [KEY]`."""

    def __init__(self, runtime: Runtime, corrector: Corrector | None = None) -> None:
        from bot.clock import SystemClock

        self._runtime = runtime
        # `correct` takes the time it plans for; the clock is only the scheduler's.
        self._corrector = corrector or Corrector(runtime, SystemClock())

    async def preview(self, key: date | None, now: datetime) -> CorrectionPreview:
        """The correction of issue `key` (None: the newest published issue) at `now`."""
        settings = self._runtime.settings.publish
        hours = settings.corrections_window_hours
        async with self._runtime.sessions() as session:
            summary = await self._summary(session, key)
            switched_on = (await corrections_switch(session)).on
        if summary is None:
            return CorrectionPreview(key, "unknown", hours)
        published, at = summary.published_hash, summary.published_at
        if at is None or published is None or is_archived_hash(published):
            return CorrectionPreview(summary.key, "unpublished", hours)
        if published == summary.content_hash:
            return CorrectionPreview(summary.key, "current", hours, at)
        if not settings.corrections:
            return CorrectionPreview(summary.key, "off", hours, at)
        if not switched_on:
            return CorrectionPreview(summary.key, "switched_off", hours, at)
        if at < now - timedelta(hours=hours):
            return CorrectionPreview(summary.key, "window_passed", hours, at)
        changed = ChangedIssue(summary.id, summary.key, published, summary.content_hash)
        plan = await self._corrector.correct(changed, now, dry_run=True)
        async with self._runtime.sessions() as session:
            issue = await load_issue(session, summary.id)
        if plan is None or issue is None:  # deleted meanwhile
            return CorrectionPreview(summary.key, "unknown", hours)
        settles = summary.content_changed_at + timedelta(minutes=settings.settle_minutes)
        return CorrectionPreview(
            summary.key,
            "planned",
            hours,
            at,
            settles_at=settles if settles > now else None,
            plan=plan,
            issue=issue,
        )

    async def _summary(self, session: AsyncSession, key: date | None) -> IssueSummary | None:
        slug = self._runtime.series.slug
        if key is None:
            recent = await list_issues(session, slug, limit=RECENT)
            pushed = (
                s
                for s in recent
                if s.published_at is not None and not is_archived_hash(s.published_hash)
            )
            return next(pushed, None)
        issue_id = await find_issue_id(session, slug, key)
        return None if issue_id is None else await get_summary(session, issue_id)
