"""Search index: search_docs, with a GIN tsvector (PostgreSQL) or an FTS5 table (SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens are produced in Python (storage/search/text.py): CJK bigrams and folded words,
# space separated; `_` only occurs in filter tags (s_papers, t_chips). unicode61 just
# splits on spaces here. prefix='1' makes one-character queries (芯*) a single lookup.
_FTS5 = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, source, body, section, topics, tags,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'",
    prefix = '1'
)
"""
# Also fires for rows removed by ON DELETE CASCADE from issues/entries.
_TRIGGER = """
CREATE TRIGGER search_docs_fts_delete AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_fts WHERE rowid = old.id;
END
"""

# PostgreSQL only. The planner prices `tsv @@ q` as cheap and picks sequential scans
# for common words, but every row then detoasts a ~2 KB tsvector (seconds at 100k
# rows). Inside this function only the GIN bitmap path is allowed; `id + 0` keeps the
# id range a filter (a bitmap of the whole primary-key range costs more than it saves).
_PG_DOC_IDS = """
CREATE FUNCTION search_doc_ids(query tsquery, lo bigint, hi bigint)
RETURNS TABLE (id bigint) LANGUAGE sql STABLE
SET enable_seqscan = off SET enable_indexscan = off
AS $$ SELECT d.id FROM search_docs d WHERE d.tsv @@ query AND d.id + 0 BETWEEN lo AND hi $$
"""


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("tsv", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name="fk_search_docs_issue_id_issues",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_search_docs_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_search_docs"),
    )
    op.create_index("ix_search_docs_issue_id", "search_docs", ["issue_id"])
    op.create_index("ix_search_docs_entry_id", "search_docs", ["entry_id"])
    op.create_index("ix_search_docs_tsv", "search_docs", ["tsv"], postgresql_using="gin")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_FTS5)
        op.execute(_TRIGGER)
    else:
        op.execute(_PG_DOC_IDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_docs_fts_delete")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP FUNCTION IF EXISTS search_doc_ids(tsquery, bigint, bigint)")
    op.drop_index("ix_search_docs_tsv", table_name="search_docs")
    op.drop_index("ix_search_docs_entry_id", table_name="search_docs")
    op.drop_index("ix_search_docs_issue_id", table_name="search_docs")
    op.drop_table("search_docs")
