"""The sections a series' stored issues have: what readers of a free-heading series can
subscribe to (bot/series_sections.py builds the series' taxonomy from them).

Bounded on purpose: it runs for a reader's command, and each section becomes a button
(and an Official Account tag), so only the newest issues count and only so many sections.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.issues import newest_first
from storage.models import EntryRow, IssueRow, SectionRow, SeriesRow

NEWEST_ISSUES: Final = 10
MAX_SECTIONS: Final = 20


class SeenSection(NamedTuple):
    key: str
    heading: str  # as the newest issue holding the section writes it


async def seen_sections(
    session: AsyncSession,
    series_slug: str,
    *,
    issues: int = NEWEST_ISSUES,
    limit: int = MAX_SECTIONS,
) -> tuple[SeenSection, ...]:
    """Distinct sections with entries in the series' `issues` newest issues: the newest
    issue's in its order, then those only older ones have; at most `limit`."""
    newest = (
        select(IssueRow.id)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
        .order_by(*newest_first())
        .limit(issues)
        .subquery()
    )
    # A section of prose only (notes, no entries) delivers nothing to a subscriber.
    has_entries = exists().where(EntryRow.section_id == SectionRow.id)
    rows = await session.execute(
        select(SectionRow.key, SectionRow.heading)
        .join(IssueRow, IssueRow.id == SectionRow.issue_id)
        .where(SectionRow.issue_id.in_(select(newest.c.id)), has_entries)
        .order_by(*newest_first(), SectionRow.position, SectionRow.id)
    )
    found: dict[str, SeenSection] = {}
    for key, heading in rows:
        if key not in found:
            found[key] = SeenSection(key, heading)
            if len(found) >= limit:
                break
    return tuple(found.values())
