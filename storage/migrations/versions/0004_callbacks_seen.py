"""callbacks_seen: signed WeChat / WeCom callbacks already accepted (replay memo).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callbacks_seen",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(
            "platform", "signed_at", "nonce", "signature", name="pk_callbacks_seen"
        ),
    )
    op.create_index("ix_callbacks_seen_signed_at", "callbacks_seen", ["signed_at"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_seen_signed_at", table_name="callbacks_seen")
    op.drop_table("callbacks_seen")
