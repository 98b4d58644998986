"""Archive of briefing issues: save parsed issues, read them back, list their summaries.

Publication state changes (publish once, archive, hold) are in storage.publication."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from briefings.model import Entry, Issue, Link, ParseWarning, Section, Series
from storage.models import EntryRow, EntryTopicRow, IssueRow, SectionRow, SeriesRow
from storage.state import get_value, set_value

SaveOutcome = Literal["added", "updated", "unchanged"]
OnSaved = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SaveResult:
    outcome: SaveOutcome
    issue_id: int
    content_changed: bool  # the content hash differs from what was stored (always for added)


@dataclass(frozen=True, slots=True)
class SectionCount:
    key: str
    heading: str
    entries: int


@dataclass(frozen=True, slots=True)
class IssueSummary:
    id: int
    series_slug: str
    key: date | None  # None: an undated issue of a numbered series
    title: str
    content_hash: str
    entry_count: int
    sections: tuple[SectionCount, ...]
    first_seen_at: datetime
    content_changed_at: datetime
    updated_at: datetime
    published_at: datetime | None
    published_hash: str | None
    held_at: datetime | None
    hold_reason: str | None
    number: int | None = None  # the issue number of a numbered series

    @property
    def label(self) -> str:
        return issue_label(self.key, self.number)


def issue_label(key: date | None, number: int | None) -> str:
    """How logs and the CLI name an issue: `2020-11-30`, `#300` or `#300 (2026-01-09)`."""
    if number is None:
        return str(key)
    return f"#{number}" + (f" ({key})" if key else "")


# --- saving ---------------------------------------------------------------------------


def content_fingerprint(issue: Issue) -> str:
    """The issue's own content hash, or one derived from its data when the parser gave none."""
    if issue.content_hash:
        return issue.content_hash
    return "repr:" + hashlib.sha256(repr(issue).encode()).hexdigest()


async def save_issue(
    session: AsyncSession,
    issue: Issue,
    now: datetime,
    *,
    on_saved: OnSaved | None = None,
    force: bool = False,
    first_seen: datetime | None = None,
) -> SaveResult:
    """Insert or replace `issue` in the caller's transaction; a no-op when its hash is unchanged.

    `force` rewrites the rows even with an unchanged hash (e.g. after a parser or
    taxonomy upgrade) without touching `content_changed_at`. Publication fields
    are not modified here, with one exception: an unpublished issue held as unfinished
    is released when its content changes, so the next check judges the new content (a
    skeleton held on its date and filled days later goes out as a late issue).
    `first_seen`: when the archive first saw the issue being written (as a placeholder
    file, `placeholder_seen`), if before now; a new row records it as its first sighting.
    """
    content_hash = content_fingerprint(issue)
    series_id = await _ensure_series(session, issue.series)
    # A numbered issue is found by its number (its date may be added or fixed later).
    same = IssueRow.key == issue.key if issue.number is None else IssueRow.number == issue.number
    found = await session.execute(
        select(IssueRow.id, IssueRow.content_hash, IssueRow.published_hash).where(
            IssueRow.series_id == series_id, same
        )
    )
    row = found.one_or_none()
    if row is not None and row.content_hash == content_hash and not force:
        return SaveResult("unchanged", row.id, content_changed=False)

    fields = _issue_fields(issue, content_hash)
    if row is None:
        outcome: SaveOutcome = "added"
        seen = min(first_seen, now) if first_seen is not None else now
        issue_id = await _insert_issue(session, series_id, fields, now, seen)
        changed = True
    else:
        outcome, issue_id, changed = "updated", row.id, row.content_hash != content_hash
        if changed and row.published_hash == row.content_hash:
            await _keep_sent_entries(session, issue_id, now)
        await _update_issue(session, issue_id, fields, now, content_changed=changed)
    await _insert_sections(session, issue_id, issue.sections)

    # >>> SEARCH INDEX HOOK: the issue's rows are written; refresh the search index here.
    if on_saved is not None:
        await on_saved(session, issue_id)
    return SaveResult(outcome, issue_id, content_changed=changed)


async def _keep_sent_entries(session: AsyncSession, issue_id: int, now: datetime) -> None:
    """Readers have this content: keep its entries before the rows are rewritten, so a
    correction can say which entries changed (storage.corrections). The first change
    after publication takes it; corrections move it on."""
    from storage import corrections

    if await corrections.sent_entries(session, issue_id) is None:
        sections = await _load_sections(session, issue_id)
        await corrections.set_sent_entries(
            session, issue_id, corrections.entries_digest(sections), now
        )


async def _insert_issue(
    session: AsyncSession,
    series_id: int,
    fields: dict[str, Any],
    now: datetime,
    first_seen: datetime,
) -> int:
    times = {"first_seen_at": first_seen, "content_changed_at": now, "updated_at": now}
    issue_id = await session.scalar(
        insert(IssueRow).values(series_id=series_id, **times, **fields).returning(IssueRow.id)
    )
    assert issue_id is not None
    return issue_id


async def _update_issue(
    session: AsyncSession,
    issue_id: int,
    fields: dict[str, Any],
    now: datetime,
    *,
    content_changed: bool,
) -> None:
    times = {"updated_at": now, **({"content_changed_at": now} if content_changed else {})}
    await session.execute(update(IssueRow).where(IssueRow.id == issue_id).values(**times, **fields))
    if content_changed:
        await session.execute(
            update(IssueRow)
            .where(IssueRow.id == issue_id, IssueRow.published_at.is_(None))
            .values(held_at=None, hold_reason=None)
        )
    # ON DELETE CASCADE removes the old entries and their topics with the sections.
    await session.execute(delete(SectionRow).where(SectionRow.issue_id == issue_id))


async def _ensure_series(session: AsyncSession, series: Series) -> int:
    row = await session.scalar(select(SeriesRow).where(SeriesRow.slug == series.slug))
    if row is None:
        row = SeriesRow(slug=series.slug, title=series.title)
        session.add(row)
        await session.flush()
    elif row.title != series.title:
        row.title = series.title
    return row.id


def _issue_fields(issue: Issue, content_hash: str) -> dict[str, Any]:
    return {
        "key": issue.key,
        "number": issue.number,
        "title": issue.title,
        "subtitle": issue.subtitle,
        "tagline": issue.tagline,
        "intro": issue.intro,
        "quick_news": list(issue.quick_news),
        "notes": list(issue.notes),
        "source_path": issue.source_path,
        "content_hash": content_hash,
        "warnings": [
            {"path": w.path, "line": w.line, "message": w.message, "unfinished": w.unfinished}
            for w in issue.warnings
        ],
        "front_matter": issue.front_matter,
        "footer": issue.footer,
    }


async def _insert_sections(
    session: AsyncSession, issue_id: int, sections: Sequence[Section]
) -> None:
    if not sections:
        return
    section_ids = (
        await session.scalars(
            insert(SectionRow).returning(SectionRow.id, sort_by_parameter_order=True),
            [
                {
                    "issue_id": issue_id,
                    "key": s.key,
                    "heading": s.heading,
                    "position": s.position,
                    "notes": list(s.notes),
                }
                for s in sections
            ],
        )
    ).all()
    entries = [
        (section_id, entry)
        for section_id, section in zip(section_ids, sections, strict=True)
        for entry in section.entries
    ]
    if not entries:
        return
    entry_ids = (
        await session.scalars(
            insert(EntryRow).returning(EntryRow.id, sort_by_parameter_order=True),
            [_entry_fields(issue_id, section_id, entry) for section_id, entry in entries],
        )
    ).all()
    topics = [
        {"entry_id": entry_id, "position": position, "topic": topic}
        for entry_id, (_, entry) in zip(entry_ids, entries, strict=True)
        for position, topic in enumerate(entry.topics)
    ]
    if topics:
        await session.execute(insert(EntryTopicRow), topics)


def _entry_fields(issue_id: int, section_id: int, entry: Entry) -> dict[str, Any]:
    return {
        "issue_id": issue_id,
        "section_id": section_id,
        "position": entry.position,
        "title": entry.title,
        "source": entry.source,
        "url": entry.url,
        "summary": entry.summary,
        "links": [{"label": link.label, "url": link.url} for link in entry.links],
        "arxiv_id": entry.arxiv_id,
        "line": entry.line,
    }


# --- the document an issue is saved from ------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueOrigin:
    issue_id: int
    source_path: str  # the document (path or URL) the issue was last saved from


async def issue_origin(session: AsyncSession, series_slug: str, issue: Issue) -> IssueOrigin | None:
    """The archived issue `save_issue(issue)` would replace (by number in a numbered series,
    else by date) and the document it came from; None when there is none."""
    same = IssueRow.key == issue.key if issue.number is None else IssueRow.number == issue.number
    found = await session.execute(
        select(IssueRow.id, IssueRow.source_path)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug, same)
    )
    row = found.one_or_none()
    return None if row is None else IssueOrigin(row.id, row.source_path)


async def newest_from(
    session: AsyncSession, series_slug: str, source_path: str
) -> tuple[date | None, int | None] | None:
    """(date, number) of the issue last saved from `source_path`: what that document held
    when it was last read (a `current.md` holds a new issue every week)."""
    found = await session.execute(
        select(IssueRow.key, IssueRow.number)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug, IssueRow.source_path == source_path)
        .order_by(IssueRow.updated_at.desc(), IssueRow.id.desc())
        .limit(1)
    )
    row = found.one_or_none()
    return None if row is None else (row.key, row.number)


async def set_source_path(session: AsyncSession, issue_id: int, source_path: str) -> None:
    """The issue now comes from `source_path` (its document renamed, its content unchanged:
    `save_issue` leaves an unchanged issue alone)."""
    await session.execute(
        update(IssueRow).where(IssueRow.id == issue_id).values(source_path=source_path)
    )


# --- reading --------------------------------------------------------------------------


async def find_issue_id(session: AsyncSession, series_slug: str, key: date) -> int | None:
    if key is None:  # an undated issue is found by its number (find_numbered_id), never
        return None  # by `key IS NULL`, which would pick any of them
    return await session.scalar(
        select(IssueRow.id)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug, IssueRow.key == key)
    )


async def get_issue(session: AsyncSession, series_slug: str, key: date) -> Issue | None:
    found = await find_issue_id(session, series_slug, key)
    return None if found is None else await load_issue(session, found)


def newest_first() -> tuple[Any, ...]:
    """Issue order, newest first: by number (numbered series), else by date. A series
    has one kind of key, so NULL ordering (which differs between engines) never mixes."""
    return (IssueRow.number.desc(), IssueRow.key.desc(), IssueRow.id.desc())


def oldest_first() -> tuple[Any, ...]:
    return (IssueRow.number, IssueRow.key, IssueRow.id)


async def find_numbered_id(session: AsyncSession, series_slug: str, number: int) -> int | None:
    return await session.scalar(
        select(IssueRow.id)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug, IssueRow.number == number)
    )


async def get_numbered_issue(session: AsyncSession, series_slug: str, number: int) -> Issue | None:
    found = await find_numbered_id(session, series_slug, number)
    return None if found is None else await load_issue(session, found)


async def newest_number(session: AsyncSession, series_slug: str) -> int | None:
    """The highest issue number of a series (None: not a numbered series, or empty)."""
    return await session.scalar(
        select(func.max(IssueRow.number))
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
    )


async def latest_issue(session: AsyncSession, series_slug: str) -> Issue | None:
    found = await session.scalar(
        select(IssueRow.id)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
        .order_by(*newest_first())
        .limit(1)
    )
    return None if found is None else await load_issue(session, found)


async def load_issue(session: AsyncSession, issue_id: int) -> Issue | None:
    """Rebuild the domain Issue stored under `issue_id` (e.g. for the search indexer)."""
    result = await session.execute(
        select(IssueRow, SeriesRow)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(IssueRow.id == issue_id)
        .execution_options(populate_existing=True)
    )
    found = result.one_or_none()
    if found is None:
        return None
    row, series = found
    return Issue(
        series=Series(slug=series.slug, title=series.title),
        key=row.key,
        number=row.number,
        title=row.title,
        subtitle=row.subtitle,
        tagline=row.tagline,
        intro=row.intro,
        quick_news=tuple(row.quick_news),
        notes=tuple(row.notes),
        sections=await _load_sections(session, issue_id),
        source_path=row.source_path,
        content_hash=row.content_hash,
        # rows written before the distinction count as unfinished: held, as they were
        warnings=tuple(
            ParseWarning(w["path"], w["line"], w["message"], w.get("unfinished", True))
            for w in row.warnings
        ),
        front_matter=row.front_matter,
        footer=row.footer,
    )


async def _load_sections(session: AsyncSession, issue_id: int) -> tuple[Section, ...]:
    sections = (
        await session.scalars(
            select(SectionRow)
            .where(SectionRow.issue_id == issue_id)
            .order_by(SectionRow.position, SectionRow.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    entries = (
        await session.scalars(
            select(EntryRow)
            .where(EntryRow.issue_id == issue_id)
            .order_by(EntryRow.position, EntryRow.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    topics: dict[int, list[str]] = defaultdict(list)
    topic_rows = await session.execute(
        select(EntryTopicRow.entry_id, EntryTopicRow.topic)
        .join(EntryRow, EntryRow.id == EntryTopicRow.entry_id)
        .where(EntryRow.issue_id == issue_id)
        .order_by(EntryTopicRow.entry_id, EntryTopicRow.position)
    )
    for entry_id, topic in topic_rows:
        topics[entry_id].append(topic)
    by_section: dict[int, list[Entry]] = defaultdict(list)
    for row in entries:
        by_section[row.section_id].append(_entry(row, tuple(topics[row.id])))
    return tuple(
        Section(
            key=s.key,
            heading=s.heading,
            position=s.position,
            entries=tuple(by_section[s.id]),
            notes=tuple(s.notes),
        )
        for s in sections
    )


def _entry(row: EntryRow, topics: tuple[str, ...]) -> Entry:
    return Entry(
        position=row.position,
        title=row.title,
        source=row.source,
        url=row.url,
        summary=row.summary,
        links=tuple(Link(label=link["label"], url=link["url"]) for link in row.links),
        arxiv_id=row.arxiv_id,
        topics=topics,
        line=row.line,
    )


async def issue_keys(session: AsyncSession, series_slug: str) -> list[date]:
    """All issue dates of a series, oldest first (undated issues have none)."""
    result = await session.scalars(
        select(IssueRow.key)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug, IssueRow.key.is_not(None))
        .order_by(IssueRow.key)
    )
    return [key for key in result if key is not None]


async def list_series(session: AsyncSession) -> list[Series]:
    rows = await session.scalars(select(SeriesRow).order_by(SeriesRow.slug))
    return [Series(slug=row.slug, title=row.title) for row in rows]


async def list_issues(
    session: AsyncSession, series_slug: str, limit: int = 20, offset: int = 0
) -> list[IssueSummary]:
    """Issues of a series, newest first, with entry counts per section."""
    query = _summary_query(series_slug).order_by(*newest_first()).limit(limit).offset(offset)
    return await _summaries(session, series_slug, query)


async def unpublished_issues(
    session: AsyncSession, series_slug: str, settled_before: datetime
) -> list[IssueSummary]:
    """Never-published, not-held issues, oldest first, unchanged since `settled_before`."""
    query = (
        _summary_query(series_slug)
        .where(
            IssueRow.published_at.is_(None),
            IssueRow.held_at.is_(None),
            IssueRow.content_changed_at <= settled_before,
        )
        .order_by(*oldest_first())
    )
    return await _summaries(session, series_slug, query)


async def get_summary(session: AsyncSession, issue_id: int) -> IssueSummary | None:
    slug = await session.scalar(
        select(SeriesRow.slug)
        .join(IssueRow, SeriesRow.id == IssueRow.series_id)
        .where(IssueRow.id == issue_id)
    )
    if slug is None:
        return None
    found = await _summaries(session, slug, _summary_query(slug).where(IssueRow.id == issue_id))
    return found[0]


def _summary_query(series_slug: str) -> Select[tuple[IssueRow]]:
    return (
        select(IssueRow)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
        .execution_options(populate_existing=True)
    )


async def _summaries(
    session: AsyncSession, series_slug: str, query: Select[tuple[IssueRow]]
) -> list[IssueSummary]:
    rows = (await session.scalars(query)).all()
    counts = await _section_counts(session, [row.id for row in rows])
    return [_summary(row, series_slug, counts.get(row.id, ())) for row in rows]


async def _section_counts(
    session: AsyncSession, issue_ids: list[int]
) -> dict[int, tuple[SectionCount, ...]]:
    if not issue_ids:
        return {}
    result = await session.execute(
        select(SectionRow.issue_id, SectionRow.key, SectionRow.heading, func.count(EntryRow.id))
        .outerjoin(EntryRow, EntryRow.section_id == SectionRow.id)
        .where(SectionRow.issue_id.in_(issue_ids))
        .group_by(SectionRow.id, SectionRow.issue_id, SectionRow.key, SectionRow.heading)
        .order_by(SectionRow.issue_id, SectionRow.position, SectionRow.id)
    )
    counts: dict[int, list[SectionCount]] = defaultdict(list)
    for issue, key, heading, count in result:
        counts[issue].append(SectionCount(key, heading, count))
    return {issue: tuple(sections) for issue, sections in counts.items()}


def _summary(row: IssueRow, series_slug: str, sections: tuple[SectionCount, ...]) -> IssueSummary:
    return IssueSummary(
        id=row.id,
        series_slug=series_slug,
        key=row.key,
        title=row.title,
        content_hash=row.content_hash,
        entry_count=sum(s.entries for s in sections),
        sections=sections,
        first_seen_at=row.first_seen_at,
        content_changed_at=row.content_changed_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        published_hash=row.published_hash,
        held_at=row.held_at,
        hold_reason=row.hold_reason,
        number=row.number,
    )


# --- placeholders: issues seen being written before they parse -------------------------
#
# An author's placeholder (a title, no sections yet) is not an issue, so it has no row;
# but the archive watched it being written, which makes a late issue a late author's,
# not one discovered late (`backfill_days` archives only the latter).


def _placeholder_key(series_slug: str, key: date) -> str:
    return f"placeholder-seen:{series_slug}:{key.isoformat()}"


async def note_placeholder(
    session: AsyncSession, series_slug: str, key: date, now: datetime
) -> None:
    """Remember the first time a placeholder for the issue `key` was seen."""
    if await placeholder_seen(session, series_slug, key) is None:
        await set_value(session, _placeholder_key(series_slug, key), now.isoformat(), now)


async def placeholder_seen(session: AsyncSession, series_slug: str, key: date) -> datetime | None:
    """When a placeholder for the issue `key` was first seen, or None."""
    value = await get_value(session, _placeholder_key(series_slug, key))
    return datetime.fromisoformat(value) if isinstance(value, str) else None
