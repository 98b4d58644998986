"""Initial archive schema: series, issues, sections, entries, subscribers, deliveries.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.UniqueConstraint("slug", name="uq_series_slug"),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Date(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subtitle", sa.Text(), nullable=False),
        sa.Column("tagline", sa.Text(), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("quick_news", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("front_matter", sa.Text(), nullable=False),
        sa.Column("footer", sa.Text(), nullable=False),
        _ts("first_seen_at"),
        _ts("content_changed_at"),
        _ts("updated_at"),
        _ts("published_at", nullable=True),
        sa.Column("published_hash", sa.String(128), nullable=True),
        _ts("held_at", nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_issues"),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name="fk_issues_series_id_series", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("series_id", "key", name="uq_issues_series_id_key"),
    )
    op.create_table(
        "sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sections"),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name="fk_sections_issue_id_issues", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sections_issue_id", "sections", ["issue_id"])
    op.create_index("ix_sections_key", "sections", ["key"])
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name="fk_entries_issue_id_issues", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["sections.id"],
            name="fk_entries_section_id_sections",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_entries_issue_id", "entries", ["issue_id"])
    op.create_index("ix_entries_section_id", "entries", ["section_id"])
    op.create_index("ix_entries_arxiv_id", "entries", ["arxiv_id"])
    op.create_table(
        "entry_topics",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "position", name="pk_entry_topics"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_entry_topics_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_entry_topics_topic_entry_id", "entry_topics", ["topic", "entry_id"])

    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("deactivated_at", nullable=True),
        sa.Column("deactivation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("platform", "chat_id", name="uq_subscribers_platform_chat_id"),
    )
    op.create_index("ix_subscribers_platform_id", "subscribers", ["platform", "id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name="fk_subscriptions_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscriber_id", "kind", "key", name="uq_subscriptions_subscriber_id_kind_key"
        ),
        sa.CheckConstraint(
            "kind IN ('section', 'topic', 'all')", name=op.f("ck_subscriptions_kind")
        ),
    )
    op.create_index("ix_subscriptions_kind_key", "subscriptions", ["kind", "key"])

    op.create_table(
        "renderings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("cache_key", sa.String(255), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_renderings"),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name="fk_renderings_issue_id_issues", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "issue_id", "platform", "cache_key", name="uq_renderings_issue_id_platform_cache_key"
        ),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("rendering_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("messages_total", sa.Integer(), nullable=False),
        sa.Column("messages_sent", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name="fk_deliveries_issue_id_issues", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name="fk_deliveries_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rendering_id"],
            ["renderings.id"],
            name="fk_deliveries_rendering_id_renderings",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "issue_id", "subscriber_id", name="uq_deliveries_issue_id_subscriber_id"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dropped')",
            name=op.f("ck_deliveries_status"),
        ),
    )
    op.create_index("ix_deliveries_status_id", "deliveries", ["status", "id"])
    op.create_index(
        "ix_deliveries_issue_id_platform_status", "deliveries", ["issue_id", "platform", "status"]
    )
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    op.create_index("ix_deliveries_rendering_id", "deliveries", ["rendering_id"])

    op.create_table(
        "app_state",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_app_state"),
    )


def downgrade() -> None:
    for table in (
        "app_state",
        "deliveries",
        "renderings",
        "subscriptions",
        "subscribers",
        "entry_topics",
        "entries",
        "sections",
        "issues",
        "series",
    ):
        op.drop_table(table)
