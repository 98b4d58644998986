"""Several series: issues keyed by number as well as by date; subscriptions per series.

- issues.number (nullable): the issue number of a numbered series (`第 300 期`, `#300`);
  issues.key (the date) becomes nullable, since a numbered issue may have no date. Both
  are unique within a series; NULLs are distinct in a unique constraint on SQLite and
  PostgreSQL alike, so many undated (or unnumbered) issues coexist.
- subscriptions.series: the series a subscription is for; '' is the primary series
  (the first configured), which is what every existing row was about.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch.alter_column("key", existing_type=sa.Date(), nullable=True)
        batch.create_unique_constraint("uq_issues_series_id_number", ["series_id", "number"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(
            sa.Column("series", sa.String(64), nullable=False, server_default=sa.text("''"))
        )
        batch.drop_constraint("uq_subscriptions_subscriber_id_kind_key", type_="unique")
        batch.create_unique_constraint(
            "uq_subscriptions_subscriber_id_series_kind_key",
            ["subscriber_id", "series", "kind", "key"],
        )


def downgrade() -> None:
    # Subscriptions of other series than the primary one cannot be kept in the old shape.
    op.execute("DELETE FROM subscriptions WHERE series <> ''")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("uq_subscriptions_subscriber_id_series_kind_key", type_="unique")
        batch.create_unique_constraint(
            "uq_subscriptions_subscriber_id_kind_key", ["subscriber_id", "kind", "key"]
        )
        batch.drop_column("series")
    op.execute("DELETE FROM issues WHERE key IS NULL")
    with op.batch_alter_table("issues") as batch:
        batch.drop_constraint("uq_issues_series_id_number", type_="unique")
        batch.alter_column("key", existing_type=sa.Date(), nullable=False)
        batch.drop_column("number")
