"""Atomic publication-state transitions of an issue (the guards against pushing twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, literal, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import IssueRow

# `published_hash` of an issue recorded as archived (first seen too late to push):
# the prefix marks it, the rest is the content hash it was archived with.
ARCHIVED_PREFIX = "archived:"


def is_archived_hash(published_hash: str | None) -> bool:
    return published_hash is not None and published_hash.startswith(ARCHIVED_PREFIX)


async def claim_publication(
    session: AsyncSession, issue_id: int, now: datetime, *, over_archived: bool = False
) -> str | None:
    """Mark the issue published with its current content hash; None if it already was.

    One conditional UPDATE, so it also takes the row's write lock: in the caller's
    transaction the issue cannot be edited or published by anyone else until commit.
    `over_archived` also claims an issue that was only archived (an admin's push).
    """
    unpublished = IssueRow.published_at.is_(None)
    if over_archived:
        unpublished = or_(
            unpublished,
            and_(
                IssueRow.published_hash.is_not(None),
                IssueRow.published_hash.startswith(ARCHIVED_PREFIX, autoescape=True),
            ),
        )
    return await session.scalar(
        update(IssueRow)
        .where(IssueRow.id == issue_id, unpublished)
        .values(
            published_at=now,
            published_hash=IssueRow.content_hash,
            held_at=None,
            hold_reason=None,
        )
        .returning(IssueRow.content_hash),
        execution_options={"synchronize_session": False},
    )


async def archive_unpublished(session: AsyncSession, issue_id: int, now: datetime) -> bool:
    """Record a never-published issue as archived (done, never pushed); False if it was not."""
    result = await session.execute(
        update(IssueRow)
        .where(IssueRow.id == issue_id, IssueRow.published_at.is_(None))
        .values(
            published_at=now,
            published_hash=literal(ARCHIVED_PREFIX) + IssueRow.content_hash,
            held_at=None,
            hold_reason=None,
        ),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


async def hold_unpublished(
    session: AsyncSession, issue_id: int, reason: str, now: datetime
) -> bool:
    """Hold a never-published, not yet held issue; False if it was published or held meanwhile."""
    result = await session.execute(
        update(IssueRow)
        .where(
            IssueRow.id == issue_id,
            IssueRow.published_at.is_(None),
            IssueRow.held_at.is_(None),
        )
        .values(held_at=now, hold_reason=reason),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))
