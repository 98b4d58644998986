"""Row model of the search index, registered on the archive's metadata.

One row per indexed document: an entry, or an issue's own title/intro (entry_id NULL).
`id` is not a counter but a sort key (see `doc_id`), so "newest first" and the
series/date filters are rowid ranges that both databases answer from the primary key.
On PostgreSQL `tsv` holds the document's tsvector (GIN-indexed); on SQLite it stays
NULL and the text lives in the FTS5 table `search_fts` (created by the migration,
rowid = search_docs.id, kept in step by a delete trigger).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

FTS_TABLE = "search_fts"  # SQLite only: the FTS5 table and its shadow tables search_fts_*

_SERIES_SHIFT = 40
_DAY_SHIFT = 20
_SLOT_BITS = 10  # up to 1023 sections per issue and 1023 entries per section
_MAX_SLOT = (1 << _SLOT_BITS) - 1
SERIES_UNIT = 1 << _SERIES_SHIFT  # id = series_id * SERIES_UNIT + (id within the series)
# What one issue can hold in these ids; ingest limits (config) must stay within them.
MAX_SECTIONS = _MAX_SLOT  # section slots 0..1022 (slot -1 is the issue itself)
MAX_SECTION_ENTRIES = _MAX_SLOT + 1  # entry slots 0..1023


class SearchDocRow(Base):
    __tablename__ = "search_docs"
    __table_args__ = (Index("ix_search_docs_tsv", "tsv", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    tsv: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


def doc_id(series_id: int, key: date | int, section: int = -1, entry: int = 0) -> int:
    """Sort key of a document: series, then issue date (or number, in a numbered series:
    `key` is then the int), then reading order reversed.

    Larger ids are newer; within an issue the issue document (section -1) comes
    first in descending order, then sections and entries in reading order.
    """
    if not (-1 <= section < _MAX_SLOT and 0 <= entry <= _MAX_SLOT):
        raise ValueError(
            f"the archive holds at most {MAX_SECTIONS} sections of {MAX_SECTION_ENTRIES} "
            f"entries per issue (got section {section + 1}, entry {entry + 1})"
        )
    ordinal = key if isinstance(key, int) else key.toordinal()
    if ordinal < 0 or ordinal >> (_SERIES_SHIFT - _DAY_SHIFT):
        raise ValueError(f"issue {key} is too far in the future for a search id")
    slot = ((section + 1) << _SLOT_BITS) | entry
    low = (1 << _DAY_SHIFT) - 1 - slot
    return (series_id << _SERIES_SHIFT) | (ordinal << _DAY_SHIFT) | low


def id_range(series_id: int, start: date | None = None, end: date | None = None) -> tuple[int, int]:
    """Inclusive id bounds of a series' documents dated within [start, end]."""
    first = start.toordinal() if start else 0
    last = end.toordinal() if end else (1 << (_SERIES_SHIFT - _DAY_SHIFT)) - 1
    base = series_id * SERIES_UNIT
    return base | (first << _DAY_SHIFT), base | (last << _DAY_SHIFT) | ((1 << _DAY_SHIFT) - 1)


def include_in_autogenerate(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic `include_name` hook: SQLite's FTS5 table and its shadow tables have no model."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))
