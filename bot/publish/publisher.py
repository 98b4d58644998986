"""Publication: one delivery per (issue, subscriber), created with the publication mark.

A publication is one transaction: claim the issue (a conditional UPDATE that sets
published_at/published_hash and locks the row), load its content, read active
subscribers in keyed batches and create their deliveries with each distinct
rendering stored once. If anything fails, nothing is published; the unique
(issue, subscriber) constraint and the claim make a second publication impossible.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.publish.alerts import Alert, LogNotifier, Notifier
from bot.publish.rendering import PublicationRenderings, RendererSet
from bot.publish.rule import repaired_defects, unfinished_reasons
from bot.runtime import Runtime
from briefings.model import Issue
from storage.deliveries.writes import AlreadyPublished, DeliveryItem, create_deliveries
from storage.issues import IssueSummary, find_issue_id, get_summary, load_issue
from storage.publication import (
    archive_unpublished,
    claim_publication,
    hold_unpublished,
    is_archived_hash,
)
from storage.subscribers import (
    ALL,
    Subscriber,
    add_subscription,
    get_or_create,
    get_subscriber,
    iter_active,
    update_settings,
)

log = logging.getLogger(__name__)

DRY_RUN_LISTED = 50  # subscribers listed one by one in a dry run


@dataclass(frozen=True, slots=True)
class Publication:
    key: date
    issue_id: int
    content_hash: str
    deliveries: int
    renderings: int
    empty: int  # active subscribers whose subscriptions matched no entry
    repaired: tuple[str, ...] = ()  # defects the parser repaired: published, admins told


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["published", "held", "skipped"]
    publication: Publication | None = None
    reasons: tuple[str, ...] = ()  # why held / skipped


@dataclass(frozen=True, slots=True)
class PublishAnswer:
    """What an admin's publish request came to: one line for the chat or the CLI."""

    ok: bool  # published (or planned); False: unknown, already published, refused
    message: str


class _Rollback(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


@dataclass(slots=True)
class _Plan:
    lines: list[str] = field(default_factory=list)
    recipients: int = 0
    empty: int = 0


class IssuePublisher:
    """Creates deliveries; also the command core's `Publisher` (`/publish`, `/preview`)."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        notifier: Notifier | None = None,
        *,
        batch_size: int | None = None,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._notifier = notifier or LogNotifier()
        self._batch = batch_size or runtime.settings.delivery.batch_size
        self._renderers = RendererSet(runtime.settings)
        self._zone = ZoneInfo(runtime.settings.publish.timezone)

    # -- the command core's Publisher -------------------------------------------------

    async def publish(self, key: date, dry_run: bool = False) -> str:
        """An admin's push of issue `key` now (or a report of who would get what)."""
        return (await self.request(key, dry_run)).message

    async def request(self, key: date, dry_run: bool = False) -> PublishAnswer:
        async with self._runtime.sessions() as session:
            issue_id = await find_issue_id(session, self._runtime.series.slug, key)
            summary = None if issue_id is None else await get_summary(session, issue_id)
        if summary is None:
            return PublishAnswer(False, f"no issue {key} in the archive")
        if summary.published_at is not None and not is_archived_hash(summary.published_hash):
            return PublishAnswer(
                False,
                f"issue {key} was already published at {self._local(summary.published_at)} "
                f"(content {summary.published_hash or ''}); later edits only update the archive",
            )
        if dry_run:
            return PublishAnswer(True, await self.preview(summary))
        outcome = await self.publish_issue(summary.id, manual=True)
        if outcome.publication is None:
            reasons = "; ".join(outcome.reasons)
            return PublishAnswer(False, f"issue {key} was not published: {reasons}")
        return PublishAnswer(True, "published " + describe(outcome.publication))

    # -- scheduler actions ------------------------------------------------------------

    async def publish_issue(
        self, issue_id: int, *, expected_hash: str | None = None, manual: bool = False
    ) -> Outcome:
        """Publish now. Unless `manual`, an unfinished issue is held and admins alerted.

        `expected_hash` is the content the caller judged settled: if it changed since,
        nothing happens (the next check judges the new content).
        """
        now = self._clock.now()
        try:
            async with self._runtime.sessions.begin() as session:
                publication = await self._publish_in(session, issue_id, now, expected_hash, manual)
        except _Rollback as stop:
            if stop.outcome.status == "held":
                await self._hold(issue_id, stop.outcome.reasons, now)
            return stop.outcome
        except AlreadyPublished as exc:  # another process created deliveries first
            log.warning("issue %s: %s", issue_id, exc)
            return Outcome("skipped", reasons=(str(exc),))
        log.info("published %s", describe(publication))
        if publication.repaired and not manual:
            await self._notifier.alert(Alert(repaired_text(publication)))
        return Outcome("published", publication)

    async def archive(self, summary: IssueSummary) -> bool:
        """Record a stale issue as archived: done, never pushed (unless an admin does)."""
        async with self._runtime.sessions.begin() as session:
            done = await archive_unpublished(session, summary.id, self._clock.now())
        if done:
            log.info("archived %s without pushing: first due too long ago", summary.key)
        return done

    async def _publish_in(
        self,
        session: AsyncSession,
        issue_id: int,
        now: datetime,
        expected_hash: str | None,
        manual: bool,
    ) -> Publication:
        content_hash = await claim_publication(session, issue_id, now, over_archived=manual)
        if content_hash is None:
            raise _Rollback(Outcome("skipped", reasons=("already published",)))
        if expected_hash is not None and content_hash != expected_hash:
            raise _Rollback(Outcome("skipped", reasons=("content changed since the check",)))
        issue = await load_issue(session, issue_id)
        assert issue is not None  # the claim found the row and holds its lock
        reasons = () if manual else tuple(unfinished_reasons(issue))
        if reasons:
            raise _Rollback(Outcome("held", reasons=reasons))
        await self._ensure_channel(session, now)
        cache = PublicationRenderings(issue, self._renderers, self._runtime.taxonomy)
        created = empty = 0
        async for batch in iter_active(_within(session), batch=self._batch):
            items = _items(cache, batch)
            empty += len(batch) - len(items)
            if items:
                result = await create_deliveries(session, issue_id, items, now, skip_existing=False)
                created += result.created
        repaired = tuple(repaired_defects(issue))
        return Publication(issue.key, issue_id, content_hash, created, len(cache), empty, repaired)

    async def _ensure_channel(self, session: AsyncSession, now: datetime) -> None:
        """The configured channel is a subscriber that receives every push."""
        channel = self._runtime.settings.telegram.channel
        if not channel:
            return
        subscriber, _ = await get_or_create(session, "telegram", channel, kind="channel", now=now)
        if subscriber.kind != "channel":
            await update_settings(session, subscriber.id, kind="channel")
        await add_subscription(session, subscriber.id, ALL)

    async def _hold(self, issue_id: int, reasons: tuple[str, ...], now: datetime) -> None:
        async with self._runtime.sessions.begin() as session:
            held = await hold_unpublished(session, issue_id, "; ".join(reasons), now)
            issue = await load_issue(session, issue_id) if held else None
        if issue is None:
            return
        log.warning("held %s as unfinished: %s", issue.key, "; ".join(reasons))
        await self._notifier.alert(Alert(hold_text(issue, reasons), issue))

    # -- dry run ----------------------------------------------------------------------

    async def preview(self, summary: IssueSummary) -> str:
        """Who would get what if the issue were published now; writes nothing."""
        async with self._runtime.sessions() as session:
            issue = await load_issue(session, summary.id)
        assert issue is not None
        cache = PublicationRenderings(issue, self._renderers, self._runtime.taxonomy)
        plan = _Plan()
        channel = await self._missing_channel(summary.first_seen_at)
        if channel is not None:
            _plan_line(plan, cache, channel)
        async for batch in iter_active(self._runtime.sessions, batch=self._batch):
            for subscriber in batch:
                _plan_line(plan, cache, subscriber)
        return self._preview_text(issue, summary, cache, plan)

    async def _missing_channel(self, now: datetime) -> Subscriber | None:
        """The configured channel as it will be added on publication, if it is not yet."""
        channel = self._runtime.settings.telegram.channel
        if not channel:
            return None
        async with self._runtime.sessions() as session:
            if await get_subscriber(session, "telegram", channel) is not None:
                return None
        return Subscriber(
            0, "telegram", channel, "channel", "zh", "full", False, True, now, subscriptions=(ALL,)
        )

    def _preview_text(
        self, issue: Issue, summary: IssueSummary, cache: PublicationRenderings, plan: _Plan
    ) -> str:
        head = [
            f"dry run: {issue.title} [{issue.key}] content {summary.content_hash}",
            f"{plan.recipients} subscriber(s) would get it in {len(cache)} rendering(s); "
            f"{plan.empty} would get nothing (no matching entries)",
        ]
        if summary.held_at is not None:
            head.append(f"held since {self._local(summary.held_at)}: {summary.hold_reason}")
        head += [f"warning: {reason}" for reason in unfinished_reasons(issue)]
        listed = plan.lines[:DRY_RUN_LISTED]
        if len(plan.lines) > DRY_RUN_LISTED:
            listed.append(f"  ... and {len(plan.lines) - DRY_RUN_LISTED} more")
        return "\n".join(head + listed)

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).isoformat(timespec="minutes")


def _within(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """A session factory handing out `session` itself: batches read inside our transaction."""

    def factory() -> AbstractAsyncContextManager[AsyncSession]:
        return nullcontext(session)

    return cast(Any, factory)


def _items(cache: PublicationRenderings, batch: list[Subscriber]) -> list[DeliveryItem]:
    items = []
    for subscriber in batch:
        found = cache.messages(subscriber)
        if found is not None:
            key, messages = found
            items.append(DeliveryItem(subscriber.id, key, subscriber.platform, messages))
    return items


def _plan_line(plan: _Plan, cache: PublicationRenderings, subscriber: Subscriber) -> None:
    found = cache.messages(subscriber)
    if found is None:
        plan.empty += 1
        return
    key, messages = found
    plan.recipients += 1
    chat = f"{subscriber.platform}:{subscriber.chat_id} ({subscriber.kind})"
    plan.lines.append(f"  {chat} <- {key}: {len(messages)} message(s)")


def hold_text(issue: Issue, reasons: tuple[str, ...]) -> str:
    listed = "\n".join(f"- {reason}" for reason in reasons)
    return (
        f"Held {issue.title} [{issue.key}]: it looks unfinished.\n{listed}\n"
        f"Publish it by hand when ready: /publish {issue.key} (/preview {issue.key} shows "
        f"who would get what), or briefbot publish {issue.key} [--dry-run]."
    )


def repaired_text(publication: Publication) -> str:
    listed = "\n".join(f"- {defect}" for defect in publication.repaired)
    return (
        f"Published issue {publication.key} with defects the parser repaired "
        f"(readers may notice them; fix them in the file):\n{listed}"
    )


def describe(publication: Publication) -> str:
    return (
        f"issue {publication.key} (content {publication.content_hash}): "
        f"{publication.deliveries} deliveries in {publication.renderings} rendering(s); "
        f"{publication.empty} subscriber(s) matched nothing"
    )
