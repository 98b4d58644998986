"""Publication: one delivery per (issue, subscriber), created with the publication mark.

A publication is one transaction: claim the issue (a conditional UPDATE that sets
published_at/published_hash and locks the row), load its content, read active
subscribers in keyed batches and create their deliveries with each distinct
rendering stored once. If anything fails, nothing is published; the unique
(issue, subscriber) constraint and the claim make a second publication impossible.

An admin's request (`publish`, also `/preview` and `/publish`) comes back as data
(`bot.publish.results`): the command core says it in the admin's language, the CLI in
English. Alerts carry both languages; each notifier picks its own (`bot.publish.alerts`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import i18n
from bot.clock import Clock
from bot.publish.alerts import Alert, LogNotifier, Notifier
from bot.publish.rendering import MASS_PLATFORM, PublicationRenderings, RendererSet
from bot.publish.results import (
    Defect,
    Preview,
    Publication,
    PublishResult,
    Recipient,
    Refusal,
)
from bot.publish.rule import repaired, unfinished_defects
from bot.runtime import Runtime
from briefings.model import Issue
from briefings.taxonomy import Taxonomy
from storage.deliveries.writes import (
    AlreadyPublished,
    DeliveryItem,
    create_deliveries,
    store_renderings,
)
from storage.issues import (
    IssueSummary,
    find_issue_id,
    find_numbered_id,
    get_summary,
    load_issue,
)
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
    series_key,
    update_settings,
)

log = logging.getLogger(__name__)

# Publication lives in bot.publish.results (the command core reads it) and is still
# imported from here by the cycle.
__all__ = ["IssuePublisher", "Outcome", "Publication", "PublishResult", "hold_alert"]

DRY_RUN_LISTED = 50  # subscribers listed one by one in a dry run


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["published", "held", "skipped"]
    publication: Publication | None = None
    reasons: tuple[str, ...] = ()  # why held / skipped (English: logs and the archive)
    defects: tuple[Defect, ...] = ()  # held: the reasons, for admins in their language


class _Rollback(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


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
        # Only the subscribers of this publisher's series get its issues.
        self._series = series_key(runtime.series.slug, runtime.primary_slug)

    # -- the command core's Publisher -------------------------------------------------

    async def publish(
        self, key: date | int, dry_run: bool = False, series: str = ""
    ) -> PublishResult:
        """An admin's push now (or, `dry_run`, who would get what) of the issue dated `key`,
        or numbered `key` (an int: a numbered series' issue, dated or not), of `series`
        (a configured slug; "" or this publisher's own: this series)."""
        if series and series != self._runtime.series.slug:
            return await self._in_series(series).publish(key, dry_run)
        async with self._runtime.sessions() as session:
            issue_id = await _find(session, self._runtime.series.slug, key)
            summary = None if issue_id is None else await get_summary(session, issue_id)
        if summary is None:
            return Refusal(key, "unknown")
        if summary.published_at is not None and not is_archived_hash(summary.published_hash):
            return Refusal(
                key, "already_published", summary.published_at, summary.published_hash or ""
            )
        if dry_run:
            return await self.preview(summary)
        outcome = await self.publish_issue(summary.id, manual=True)
        if outcome.publication is None:  # another process published it since we looked
            return Refusal(key, "already_published")
        return outcome.publication

    def _in_series(self, slug: str) -> IssuePublisher:
        """The publisher of another configured series (its subscribers, its renderings)."""
        view = self._runtime.for_series(slug)
        if view is None:  # the command core and the CLI only name configured series
            raise ValueError(f"no series {slug!r}")
        return IssuePublisher(view, self._clock, self._notifier, batch_size=self._batch)

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
                await self._hold(issue_id, stop.outcome.defects, now)
            return stop.outcome
        except AlreadyPublished as exc:  # another process created deliveries first
            log.warning("issue %s: %s", issue_id, exc)
            return Outcome("skipped", reasons=(str(exc),))
        log.info(
            "published %s (content %s): %d deliveries in %d renderings; %d matched nothing",
            publication.key,
            publication.content_hash,
            publication.deliveries,
            publication.renderings,
            publication.empty,
        )
        if publication.repaired and not manual:
            await self._notifier.alert(repaired_alert(publication))
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
        defects = () if manual else tuple(unfinished_defects(issue))
        if defects:
            reasons = tuple(d.stored for d in defects)
            raise _Rollback(Outcome("held", reasons=reasons, defects=defects))
        await self._ensure_channel(session, now)
        cache = self._renderings(issue)
        created = empty = 0
        async for batch in self._readers(_within(session)):
            items = _items(cache, batch)
            empty += len(batch) - len(items)
            if items:
                result = await create_deliveries(session, issue_id, items, now, skip_existing=False)
                created += result.created
        # Official Account parts: what each tag's mass send carries, stored once like the rest.
        await store_renderings(session, issue_id, MASS_PLATFORM, cache.parts, now)
        fixed = tuple(repaired(issue))
        return Publication(
            issue.key, issue_id, content_hash, created, len(cache), empty, fixed, issue.number
        )

    async def _ensure_channel(self, session: AsyncSession, now: datetime) -> None:
        """The configured channel is a subscriber that receives every push."""
        channel = self._runtime.settings.telegram.channel
        if not channel:
            return
        subscriber, _ = await get_or_create(session, "telegram", channel, kind="channel", now=now)
        if subscriber.kind != "channel":
            await update_settings(session, subscriber.id, kind="channel")
        await add_subscription(session, subscriber.id, ALL, series=self._series)

    async def _hold(self, issue_id: int, defects: tuple[Defect, ...], now: datetime) -> None:
        reasons = "; ".join(d.stored for d in defects)
        async with self._runtime.sessions.begin() as session:
            held = await hold_unpublished(session, issue_id, reasons, now)
            issue = await load_issue(session, issue_id) if held else None
        if issue is None:
            return
        log.warning("held %s as unfinished: %s", issue.key, reasons)
        other = "" if self._runtime.is_primary else self._runtime.series.slug
        await self._notifier.alert(hold_alert(issue, defects, self._runtime.taxonomy, other))

    # -- dry run ----------------------------------------------------------------------

    async def preview(self, summary: IssueSummary) -> Preview:
        """Who would get what if the issue were published now; writes nothing."""
        async with self._runtime.sessions() as session:
            issue = await load_issue(session, summary.id)
        assert issue is not None
        cache = self._renderings(issue)
        listed: list[Recipient] = []
        counts = {"recipients": 0, "empty": 0}

        def plan(subscriber: Subscriber) -> None:
            found = cache.messages(subscriber)
            if found is None:
                counts["empty"] += 1
                return
            counts["recipients"] += 1
            if len(listed) < DRY_RUN_LISTED:
                key, messages = found
                s = subscriber
                listed.append(Recipient(s.platform, s.chat_id, s.kind, key, len(messages)))

        channel = await self._missing_channel(summary.first_seen_at)
        if channel is not None:
            plan(channel)
        async for batch in self._readers(self._runtime.sessions):
            for subscriber in batch:
                plan(subscriber)
        return Preview(
            key=summary.key,
            title=issue.title,
            content_hash=summary.content_hash,
            recipients=counts["recipients"],
            renderings=len(cache),
            empty=counts["empty"],
            listed=tuple(listed),
            held_at=summary.held_at,
            unfinished=tuple(unfinished_defects(issue)),
            number=issue.number,
        )

    def _renderings(self, issue: Issue) -> PublicationRenderings:
        return PublicationRenderings(issue, self._renderers, self._runtime.taxonomy, self._series)

    def _readers(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[list[Subscriber]]:
        """This series' active subscribers in batches."""
        return iter_active(sessions, batch=self._batch, series=self._series)

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


async def _find(session: AsyncSession, series_slug: str, key: date | int) -> int | None:
    """An issue's id by date, or by number (an int)."""
    if isinstance(key, int):
        return await find_numbered_id(session, series_slug, key)
    return await find_issue_id(session, series_slug, key)


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


def hold_alert(
    issue: Issue, defects: tuple[Defect, ...], taxonomy: Taxonomy, series: str = ""
) -> Alert:
    """Held as unfinished: why, and how to publish it anyway (admins use Telegram's
    slash commands; the CLI's form is named too). `series`: the slug of a series other
    than the primary one, which both forms must name."""
    # an undated issue by its number (what /publish and `briefbot publish` take)
    ref = f"{issue.key}" if issue.key is not None else f"{issue.number}"

    def text(lang: str) -> str:
        return i18n.t(
            lang,
            "alert_held",
            title=issue.title,
            date=ref,
            command=f"{series} {ref}" if series else ref,
            cli=f"--series {series} publish {ref}" if series else f"publish {ref}",
            defects=_listed(lang, defects, taxonomy),
        )

    return Alert(text("zh"), issue, english=text("en"), taxonomy=taxonomy)


def repaired_alert(publication: Publication) -> Alert:
    def text(lang: str) -> str:
        listed = _listed(lang, publication.repaired)
        return i18n.t(lang, "alert_repaired", date=publication.label, defects=listed)

    return Alert(text("zh"), english=text("en"))


def _listed(lang: str, defects: tuple[Defect, ...], taxonomy: Taxonomy | None = None) -> str:
    return "\n".join(f"- {d.said(lang, taxonomy)}" for d in defects)
