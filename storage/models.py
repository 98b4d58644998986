"""Typed SQLAlchemy models of the archive, portable across SQLite and PostgreSQL.

The schema is created by the Alembic revisions in `storage/migrations`, never by
`metadata.create_all`; tests check that both stay identical.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so later migrations can drop/alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dropped")
SUBSCRIPTION_KINDS = ("section", "topic", "all")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SeriesRow(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)


class IssueRow(Base):
    """An issue of a series, identified by its date (`key`), its number, or both.

    A date-keyed series (Embedded AI) has dates and no numbers; a numbered series has
    numbers and, when its layout finds one, a date. Each is unique within the series
    (NULLs never collide on either database). Queries order by number, then date, which
    is the date order in a date-keyed series and the number order in a numbered one.
    """

    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("series_id", "key"),
        UniqueConstraint("series_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    key: Mapped[date | None] = mapped_column(Date)
    number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str] = mapped_column(Text)
    tagline: Mapped[str] = mapped_column(Text)
    intro: Mapped[str] = mapped_column(Text)
    quick_news: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)
    source_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(128))
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{path, line, message}]
    front_matter: Mapped[str] = mapped_column(Text)
    footer: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The publisher waits until content has not changed for a while.
    content_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_hash: Mapped[str | None] = mapped_column(String(128))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(Text)


class SectionRow(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    heading: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    notes: Mapped[list[str]] = mapped_column(JSON)


class EntryRow(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{label, url}]
    arxiv_id: Mapped[str | None] = mapped_column(String(64), index=True)
    line: Mapped[int] = mapped_column(Integer)


class EntryTopicRow(Base):
    """One row per topic of an entry; `position` keeps the entry's topic order."""

    __tablename__ = "entry_topics"
    __table_args__ = (Index("ix_entry_topics_topic_entry_id", "topic", "entry_id"),)

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))


class SubscriberRow(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id"),
        Index("ix_subscribers_platform_id", "platform", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # telegram | wechat | wecom | console
    chat_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # private | group | channel | user
    language: Mapped[str] = mapped_column(String(8))  # zh | en
    # True once /settings chose the language; until then the client's language wins.
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    format: Mapped[str] = mapped_column(String(16))  # full | digest
    paused: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivation_reason: Mapped[str | None] = mapped_column(Text)


class SubscriptionRow(Base):
    """What a subscriber receives of one series: everything (`all`), or sections/topics.

    `series` is the series' slug, except for the primary series (the first configured),
    which is '': every row written before several series existed is about it, and code
    written for one series keeps reading it unchanged. A subscriber with no row for a
    series does not receive it. Should the primary series change in the config, start-up
    swaps the rows of the old and new primary (storage.subscribers.adopt_primary), so
    every reader keeps the series they chose.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "series", "kind", "key"),
        Index("ix_subscriptions_kind_key", "kind", "key"),
        CheckConstraint(f"kind IN {SUBSCRIPTION_KINDS!r}", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    series: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))  # "" for kind == "all"


class RenderingRow(Base):
    """Messages rendered once per (issue, platform, cache key) and shared by deliveries."""

    __tablename__ = "renderings"
    __table_args__ = (UniqueConstraint("issue_id", "platform", "cache_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    cache_key: Mapped[str] = mapped_column(String(255))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{text, format, size, ...}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # The guard against publishing an issue twice to the same chat.
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_deliveries_status_id", "status", "id"),
        Index("ix_deliveries_issue_id_platform_status", "issue_id", "platform", "status"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    rendering_id: Mapped[int] = mapped_column(
        ForeignKey("renderings.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))  # copy of the subscriber's, for grouping
    status: Mapped[str] = mapped_column(String(16))
    messages_total: Mapped[int] = mapped_column(Integer)
    messages_sent: Mapped[int] = mapped_column(Integer)  # index of the next message to send
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The instance (InstanceRow.id) holding the claim while 'sending'; NULL for claims made
    # outside `run` (one-shot drains), which go stale by `updated_at` instead.
    claimed_by: Mapped[str | None] = mapped_column(String(32))


class SentMessageRow(Base):
    """The platform's id of a delivery's message at `position`, once the platform took it.

    Written in the same statement batch as the delivery's checkpoint (so an id is never
    recorded without its progress, nor progress without its id); a resend after a crash
    overwrites the position with the copy sent last. Corrections edit these messages.
    """

    __tablename__ = "sent_messages"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))


class CorrectionRow(Base):
    """What a delivered chat still needs of an issue's latest edit (storage/corrections.py).

    One row per delivery, reused by every later edit: rewriting it bumps `attempts`, which
    fences a claim under way (its checkpoints then change nothing), so the newest edit
    supersedes a pending correction. Claimed, checkpointed and requeued like a delivery.
    """

    __tablename__ = "corrections"
    __table_args__ = (
        Index("ix_corrections_status_id", "status", "id"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(128))  # the version it brings readers to
    kind: Mapped[str] = mapped_column(String(16))  # edit | message
    # Stored messages to send in order; an edit carries `edit_message_id`.
    operations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The chat's messages as readers have them before / after these operations.
    basis: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    target: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    messages_total: Mapped[int] = mapped_column(Integer)
    messages_sent: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    corrections_sent: Mapped[int] = mapped_column(Integer)  # completed, over all edits
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(32))


class InstanceRow(Base):
    """A running `briefbot run` process: its heartbeat, and whether it leads.

    The id is random per process start, so a restarted process owns nothing of its past
    life; its old row just goes stale. Heartbeats are stamped with the database's clock.
    """

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leader: Mapped[bool] = mapped_column(Boolean, server_default=false())


class AppStateRow(Base):
    """Small shared key/value state: cached access tokens, source cursors, ..."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallbackSeenRow(Base):
    """A signed WeChat / WeCom callback already accepted: the same one again is a replay.

    The key is what the sender signed; rows older than the freshness window are useless
    (such callbacks are refused as stale anyway) and get purged (storage/replay.py).
    """

    __tablename__ = "callbacks_seen"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    signed_at: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
