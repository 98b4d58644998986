"""Chat subscribers, their settings and subscriptions.

Subscriptions are per series (`SubscriptionRow`): every function that reads or writes
them takes `series`, which defaults to `PRIMARY` (''), the primary series. A
`Subscriber` carries the subscriptions of the series it was loaded for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage._dialect import insert
from storage.clock import utcnow
from storage.models import SUBSCRIPTION_KINDS, SubscriberRow, SubscriptionRow
from storage.state import get_value, set_value
from storage.vocabulary import CHAT_KINDS, FORMATS, LANGUAGES, PLATFORMS


def _check(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


@dataclass(frozen=True, slots=True, order=True)
class Subscription:
    kind: str  # section | topic | all
    key: str = ""  # section or topic key; "" for all

    def __post_init__(self) -> None:
        _check("subscription kind", self.kind, SUBSCRIPTION_KINDS)
        if (self.kind == "all") != (self.key == ""):
            raise ValueError(f"subscription {self.kind!r} with key {self.key!r}")


ALL = Subscription("all")
# The primary series' subscriptions (storage.models.SubscriptionRow says why '').
PRIMARY = ""
SERIES_CHARS = 64  # subscriptions.series
_PRIMARY_STATE = "subscriptions.primary-series"


def series_key(slug: str, primary_slug: str) -> str:
    """How subscriptions name the series `slug` when `primary_slug` is the primary one."""
    return PRIMARY if slug == primary_slug else slug


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    platform: str
    chat_id: str
    kind: str
    language: str
    format: str
    paused: bool
    active: bool
    created_at: datetime
    deactivated_at: datetime | None = None
    deactivation_reason: str | None = None
    subscriptions: tuple[Subscription, ...] = ()  # sorted
    language_chosen: bool = False  # set by /settings; else the client's language wins


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """Counts over active subscribers (paused ones included)."""

    by_platform: dict[str, int] = field(default_factory=dict)
    paused: int = 0
    inactive: int = 0
    all_sections: int = 0  # subscribed to everything
    by_section: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    subscribers: int = 0  # active ones with a subscription to the series asked for


# --- single subscribers ---------------------------------------------------------------


async def get_or_create(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    *,
    kind: str = "private",
    language: str = "zh",
    format: str = "full",
    now: datetime | None = None,
    series: str = PRIMARY,
) -> tuple[Subscriber, bool]:
    """The chat's subscriber (reactivated if it was deactivated) and whether it is new."""
    _check("platform", platform, PLATFORMS)
    _check("chat kind", kind, CHAT_KINDS)
    _check("language", language, LANGUAGES)
    _check("format", format, FORMATS)
    # ON CONFLICT keeps concurrent /start commands for one chat from failing.
    created_id = await session.scalar(
        insert(session, SubscriberRow)
        .values(
            platform=platform,
            chat_id=chat_id,
            kind=kind,
            language=language,
            format=format,
            paused=False,
            active=True,
            created_at=now or utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["platform", "chat_id"])
        .returning(SubscriberRow.id)
    )
    if created_id is None:
        await session.execute(
            update(SubscriberRow)
            .where(
                SubscriberRow.platform == platform,
                SubscriberRow.chat_id == chat_id,
                SubscriberRow.active.is_(False),
            )
            .values(active=True, deactivated_at=None, deactivation_reason=None)
        )
    subscriber = await get_subscriber(session, platform, chat_id, series=series)
    assert subscriber is not None
    return subscriber, created_id is not None


async def get_subscriber(
    session: AsyncSession, platform: str, chat_id: str, *, series: str = PRIMARY
) -> Subscriber | None:
    found = await _load(
        session,
        select(SubscriberRow).where(
            SubscriberRow.platform == platform, SubscriberRow.chat_id == chat_id
        ),
        series,
    )
    return found[0] if found else None


async def get_subscriber_by_id(
    session: AsyncSession, subscriber_id: int, *, series: str = PRIMARY
) -> Subscriber | None:
    query = select(SubscriberRow).where(SubscriberRow.id == subscriber_id)
    found = await _load(session, query, series)
    return found[0] if found else None


async def _load(
    session: AsyncSession, query: Select[tuple[SubscriberRow]], series: str = PRIMARY
) -> list[Subscriber]:
    rows = (await session.scalars(query.execution_options(populate_existing=True))).all()
    subscriptions = await _subscriptions_of(session, [row.id for row in rows], series)
    return [_subscriber(row, subscriptions.get(row.id, ())) for row in rows]


async def _subscriptions_of(
    session: AsyncSession, subscriber_ids: list[int], series: str
) -> dict[int, tuple[Subscription, ...]]:
    if not subscriber_ids:
        return {}
    result = await session.execute(
        select(SubscriptionRow.subscriber_id, SubscriptionRow.kind, SubscriptionRow.key)
        .where(SubscriptionRow.subscriber_id.in_(subscriber_ids))
        .where(SubscriptionRow.series == series)
        .order_by(SubscriptionRow.subscriber_id, SubscriptionRow.kind, SubscriptionRow.key)
    )
    grouped: dict[int, list[Subscription]] = defaultdict(list)
    for subscriber_id, kind, key in result:
        grouped[subscriber_id].append(Subscription(kind, key))
    return {sid: tuple(subs) for sid, subs in grouped.items()}


def _subscriber(row: SubscriberRow, subscriptions: tuple[Subscription, ...]) -> Subscriber:
    return Subscriber(
        id=row.id,
        platform=row.platform,
        chat_id=row.chat_id,
        kind=row.kind,
        language=row.language,
        format=row.format,
        paused=row.paused,
        active=row.active,
        created_at=row.created_at,
        deactivated_at=row.deactivated_at,
        deactivation_reason=row.deactivation_reason,
        subscriptions=subscriptions,
        language_chosen=row.language_chosen,
    )


async def update_settings(
    session: AsyncSession,
    subscriber_id: int,
    *,
    language: str | None = None,
    format: str | None = None,
    paused: bool | None = None,
    kind: str | None = None,
    language_chosen: bool | None = None,
) -> bool:
    """Change the given settings; False when the subscriber does not exist."""
    values: dict[str, Any] = {}
    if language is not None:
        _check("language", language, LANGUAGES)
        values["language"] = language
    if language_chosen is not None:
        values["language_chosen"] = language_chosen
    if format is not None:
        _check("format", format, FORMATS)
        values["format"] = format
    if kind is not None:
        _check("chat kind", kind, CHAT_KINDS)
        values["kind"] = kind
    if paused is not None:
        values["paused"] = paused
    return await _update(session, SubscriberRow.id == subscriber_id, values)


async def deactivate(
    session: AsyncSession, subscriber_id: int, reason: str, now: datetime | None = None
) -> bool:
    """Stop sending to a chat that became unreachable (blocked, kicked, deleted)."""
    values = {"active": False, "deactivated_at": now or utcnow(), "deactivation_reason": reason}
    return await _update(session, SubscriberRow.id == subscriber_id, values)


async def _update(session: AsyncSession, where: Any, values: dict[str, Any]) -> bool:
    if not values:
        return await session.scalar(select(SubscriberRow.id).where(where)) is not None
    result = await session.execute(update(SubscriberRow).where(where).values(**values))
    return bool(getattr(result, "rowcount", 0))


async def delete_subscriber(session: AsyncSession, platform: str, chat_id: str) -> bool:
    """Forget the chat: its row, subscriptions and deliveries (ON DELETE CASCADE)."""
    result = await session.execute(
        delete(SubscriberRow).where(
            SubscriberRow.platform == platform, SubscriberRow.chat_id == chat_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def update_chat_id(
    session: AsyncSession, platform: str, old_chat_id: str, new_chat_id: str
) -> bool:
    """Follow a chat that changed id (Telegram group → supergroup).

    If the new id is already a subscriber, it keeps its settings, gains the old
    chat's subscriptions, and the old row is deleted. False when the old id is unknown.
    """
    old = await get_subscriber(session, platform, old_chat_id)
    if old is None:
        return False
    target = await get_subscriber(session, platform, new_chat_id)
    if target is None:
        return await _update(session, SubscriberRow.id == old.id, {"chat_id": new_chat_id})
    await _add_subscriptions(session, target.id, old.subscriptions)
    await delete_subscriber(session, platform, old_chat_id)
    return True


# --- subscriptions --------------------------------------------------------------------


async def add_subscription(
    session: AsyncSession, subscriber_id: int, subscription: Subscription, *, series: str = PRIMARY
) -> bool:
    """Subscribe; False if the subscriber already had it."""
    return await _add_subscriptions(session, subscriber_id, [subscription], series) == 1


async def remove_subscription(
    session: AsyncSession, subscriber_id: int, subscription: Subscription, *, series: str = PRIMARY
) -> bool:
    result = await session.execute(
        delete(SubscriptionRow).where(
            SubscriptionRow.subscriber_id == subscriber_id,
            SubscriptionRow.series == series,
            SubscriptionRow.kind == subscription.kind,
            SubscriptionRow.key == subscription.key,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def set_subscriptions(
    session: AsyncSession,
    subscriber_id: int,
    subscriptions: Iterable[Subscription],
    *,
    series: str = PRIMARY,
) -> None:
    """Replace all subscriptions of the subscriber to `series` (empty: not subscribed)."""
    await session.execute(
        delete(SubscriptionRow).where(
            SubscriptionRow.subscriber_id == subscriber_id, SubscriptionRow.series == series
        )
    )
    await _add_subscriptions(session, subscriber_id, subscriptions, series)


async def subscribed_series(session: AsyncSession, subscriber_id: int) -> set[str]:
    """The series (as `series_key`s) the subscriber has any subscription to."""
    found = await session.scalars(
        select(SubscriptionRow.series).where(SubscriptionRow.subscriber_id == subscriber_id)
    )
    return set(found)


async def adopt_primary(
    session: AsyncSession, primary_slug: str, configured: Iterable[str] = ()
) -> bool:
    """Keep subscriptions with their series when the configured primary series changes.

    The archive remembers which series '' meant; when the config's first series is
    another one and the old primary is still `configured` (the series were reordered),
    the old primary's rows get its slug and the new primary's rows become ''. An old
    primary no longer configured was renamed: its rows stay the primary's. True when
    rows were moved.
    """
    # Locked: instances starting together must not both swap (a second swap undoes it).
    recorded = await get_value(session, _PRIMARY_STATE, for_update=True)
    now = utcnow()
    if recorded == primary_slug:
        return False
    moved = isinstance(recorded, str) and recorded in set(configured)
    if moved:
        rows = SubscriptionRow.__table__
        parked = "~"  # never a slug (a-z, 0-9, -): holds the old primary's rows meanwhile
        for old, new in ((PRIMARY, parked), (primary_slug, PRIMARY), (parked, recorded)):
            await session.execute(update(rows).where(rows.c.series == old).values(series=new))
    await set_value(session, _PRIMARY_STATE, primary_slug, now)
    return moved


async def _add_subscriptions(
    session: AsyncSession,
    subscriber_id: int,
    subscriptions: Iterable[Subscription],
    series: str = PRIMARY,
) -> int:
    rows = [
        {"subscriber_id": subscriber_id, "series": series, "kind": s.kind, "key": s.key}
        for s in sorted(set(subscriptions))
    ]
    if not rows:
        return 0
    inserted = await session.scalars(
        insert(session, SubscriptionRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "series", "kind", "key"])
        .returning(SubscriptionRow.id)
    )
    return len(inserted.all())


# --- many subscribers -----------------------------------------------------------------


async def iter_active(
    session_factory: async_sessionmaker[AsyncSession],
    platform: str | None = None,
    batch: int = 1000,
    *,
    include_paused: bool = False,
    series: str = PRIMARY,
) -> AsyncIterator[list[Subscriber]]:
    """Active subscribers in batches ordered by id, each read by `id > last LIMIT batch`.

    Every batch uses its own short session, so memory and locks stay flat however
    many subscribers there are.
    """
    last_id = 0
    while True:
        query = (
            select(SubscriberRow)
            .where(SubscriberRow.active.is_(True), SubscriberRow.id > last_id)
            .order_by(SubscriberRow.id)
            .limit(batch)
        )
        if platform is not None:
            query = query.where(SubscriberRow.platform == platform)
        if not include_paused:
            query = query.where(SubscriberRow.paused.is_(False))
        async with session_factory() as session:
            subscribers = await _load(session, query, series)
        if not subscribers:
            return
        yield subscribers
        last_id = subscribers[-1].id


async def stats(session: AsyncSession, *, series: str = PRIMARY) -> SubscriberStats:
    active = SubscriberRow.active.is_(True)
    by_platform = await session.execute(
        select(SubscriberRow.platform, func.count()).where(active).group_by(SubscriberRow.platform)
    )
    paused = await session.scalar(
        select(func.count()).where(active, SubscriberRow.paused.is_(True))
    )
    inactive = await session.scalar(select(func.count()).where(SubscriberRow.active.is_(False)))
    by_subscription = await session.execute(
        select(SubscriptionRow.kind, SubscriptionRow.key, func.count())
        .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
        .where(active, SubscriptionRow.series == series)
        .group_by(SubscriptionRow.kind, SubscriptionRow.key)
    )
    in_series = await session.scalar(
        select(func.count(func.distinct(SubscriptionRow.subscriber_id)))
        .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
        .where(active, SubscriptionRow.series == series)
    )
    counts: dict[str, dict[str, int]] = {kind: {} for kind in SUBSCRIPTION_KINDS}
    for kind, key, count in by_subscription:
        counts[kind][key] = count
    return SubscriberStats(
        by_platform={platform: count for platform, count in by_platform},
        paused=paused or 0,
        inactive=inactive or 0,
        all_sections=counts["all"].get("", 0),
        by_section=counts["section"],
        by_topic=counts["topic"],
        subscribers=in_series or 0,
    )


# --- export / import ------------------------------------------------------------------


def to_record(
    subscriber: Subscriber, other_series: Mapping[str, Sequence[Subscription]] | None = None
) -> dict[str, Any]:
    """A JSON-able dict of one subscriber (the id is local and left out). `subscriptions`
    are the primary series'; `series_subscriptions` (only when there are any) the other
    series', by slug."""
    record = {
        "platform": subscriber.platform,
        "chat_id": subscriber.chat_id,
        "kind": subscriber.kind,
        "language": subscriber.language,
        "language_chosen": subscriber.language_chosen,
        "format": subscriber.format,
        "paused": subscriber.paused,
        "active": subscriber.active,
        "created_at": subscriber.created_at.isoformat(),
        "deactivated_at": _iso(subscriber.deactivated_at),
        "deactivation_reason": subscriber.deactivation_reason,
        "subscriptions": [{"kind": s.kind, "key": s.key} for s in subscriber.subscriptions],
    }
    if other_series:
        record["series_subscriptions"] = {
            series: [{"kind": s.kind, "key": s.key} for s in subscriptions]
            for series, subscriptions in sorted(other_series.items())
        }
    return record


async def _other_series_of(
    session: AsyncSession, subscriber_ids: list[int]
) -> dict[int, dict[str, list[Subscription]]]:
    """The subscriptions to series other than the primary one, per subscriber and series."""
    found: dict[int, dict[str, list[Subscription]]] = defaultdict(lambda: defaultdict(list))
    if not subscriber_ids:
        return found
    rows = await session.execute(
        select(
            SubscriptionRow.subscriber_id,
            SubscriptionRow.series,
            SubscriptionRow.kind,
            SubscriptionRow.key,
        )
        .where(SubscriptionRow.subscriber_id.in_(subscriber_ids), SubscriptionRow.series != PRIMARY)
        .order_by(SubscriptionRow.subscriber_id, SubscriptionRow.series, SubscriptionRow.kind)
    )
    for subscriber_id, series, kind, key in rows:
        found[subscriber_id][series].append(Subscription(kind, key))
    return found


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def export_records(
    session_factory: async_sessionmaker[AsyncSession], batch: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """Every subscriber, active or not, as `to_record` dicts in id order."""
    last_id = 0
    while True:
        query = (
            select(SubscriberRow)
            .where(SubscriberRow.id > last_id)
            .order_by(SubscriberRow.id)
            .limit(batch)
        )
        async with session_factory() as session:
            subscribers = await _load(session, query)
            others = await _other_series_of(session, [s.id for s in subscribers])
        if not subscribers:
            return
        for subscriber in subscribers:
            yield to_record(subscriber, others.get(subscriber.id))
        last_id = subscribers[-1].id


async def import_records(
    session: AsyncSession, records: Iterable[Mapping[str, Any]], now: datetime | None = None
) -> int:
    """Create or overwrite subscribers (matched by platform + chat id) from `to_record` dicts."""
    count = 0
    for record in records:
        created_at = record.get("created_at")
        subscriber, _ = await get_or_create(
            session,
            record["platform"],
            str(record["chat_id"]),
            kind=record.get("kind", "private"),
            now=datetime.fromisoformat(created_at) if created_at else now,
        )
        await update_settings(
            session,
            subscriber.id,
            kind=record.get("kind"),
            language=record.get("language", "zh"),
            language_chosen=bool(record.get("language_chosen", False)),
            format=record.get("format", "full"),
            paused=bool(record.get("paused", False)),
        )
        if not record.get("active", True):
            deactivated = record.get("deactivated_at")
            when = datetime.fromisoformat(deactivated) if deactivated else now
            await deactivate(session, subscriber.id, record.get("deactivation_reason") or "", when)
        subscriptions = [Subscription(s["kind"], s.get("key", "")) for s in record["subscriptions"]]
        await set_subscriptions(session, subscriber.id, subscriptions)
        for series, items in (record.get("series_subscriptions") or {}).items():
            if not isinstance(series, str) or not 0 < len(series) <= SERIES_CHARS:
                raise ValueError(f"series_subscriptions: not a series slug: {str(series)[:80]!r}")
            wanted = [Subscription(s["kind"], s.get("key", "")) for s in items]
            await set_subscriptions(session, subscriber.id, wanted, series=series)
        count += 1
    return count
