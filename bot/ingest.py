"""Read briefing files, parse them and save them into the archive (one transaction per file).

Every document is bounded before it is parsed: at most `ingest.max_file_bytes` bytes
(read that way, see `bot.sources.files`), `ingest.max_sections` sections and
`ingest.max_entries` entries (and no more entries per section than the archive holds).
Files that are not regular files and authors' placeholders (an empty file, a title
without sections yet) are skipped with a warning; everything else that cannot be
archived is a failure naming the file.

An issue (its date, or its number in a numbered series) belongs to the document it was
archived from (`IssueRow.source_path`). A document at another path claiming it (a
mis-numbered new file, a copy) is not saved over it while that document still holds the
issue; the archived issue keeps its content, and the claim is
- a failure naming both (as two new files of one issue are), when that document is in
  the same batch with the same date or number, whatever the order of the files (every
  run gives the same outcome);
- a warning naming both (skipped, so the source's poll does not fail), when it is not in
  the batch (unchanged since it was read) or failed to parse there, still exists
  (the source's `holds`, e.g. a git source's tree; otherwise it is looked up as a file,
  and any other name, e.g. a URL no longer fetched, counts as gone) and the issue is the
  last one archived from it.
Otherwise the issue moved and the new document takes it over (an unchanged one too, so
its next edit is not refused): its document was renamed or deleted, or holds another
issue now (`current.md` rotated into `061.md`). Two spellings of one file (`briefbot
ingest samples/` and a folder source's absolute paths) are one document. A poller
remembers a skipped document's bytes like any other: it is read again once it changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bot.runtime import Runtime
from bot.sources.files import DEFAULT_MAX_BYTES, Skipped, TooLarge, read_document, too_large
from briefings.errors import BriefingParseError
from briefings.model import Issue, ParseWarning
from briefings.parser import ParseLimits, decode_briefing, parse_issue, parse_with_layout
from storage.issues import (
    SaveOutcome,
    issue_label,
    issue_origin,
    newest_from,
    note_placeholder,
    placeholder_seen,
    save_issue,
    set_source_path,
)
from storage.search import index_issue
from storage.search.models import MAX_SECTION_ENTRIES


@dataclass(slots=True)
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # placeholders and non-files: a warning each, not a failure
    failures: list[BriefingParseError] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    changed_keys: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def count(self, outcome: SaveOutcome, issue: Issue) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != "unchanged":
            self.changed_keys.append(issue_label(issue.key, issue.number))

    def summary(self) -> str:
        counts = (
            f"{self.added} added / {self.updated} updated / "
            f"{self.unchanged} unchanged / {self.failed} failed"
        )
        return counts + (f" / {self.skipped} skipped" if self.skipped else "")

    def skip(self, name: str, line: int, reason: str) -> None:
        self.skipped += 1
        self.warnings.append(ParseWarning(name, line, f"{reason}; skipped"))


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders become their *.md files, sorted; missing paths are kept to fail."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.md")) if path.is_dir() else [path])
    return found


def parse_limits(runtime: Runtime) -> ParseLimits:
    caps = runtime.settings.ingest
    return ParseLimits(
        max_sections=caps.max_sections,
        max_entries=caps.max_entries,
        max_section_entries=MAX_SECTION_ENTRIES,
        sections_setting="ingest.max_sections",
        entries_setting="ingest.max_entries",
    )


def parse_document(data: bytes, name: str, runtime: Runtime) -> Issue:
    limit = runtime.settings.ingest.max_file_bytes
    if len(data) > limit:  # bytes handed over by a caller that did not cap its read
        raise BriefingParseError(name, 0, str(too_large(len(data), limit)))
    text = decode_briefing(data, name)
    if runtime.layout is not None:  # the series' layout (a [[series]] table's `layout`)
        return parse_with_layout(
            text,
            name,
            runtime.series,
            runtime.taxonomy,
            runtime.layout,
            limits=parse_limits(runtime),
        ).issue
    return parse_issue(
        text,
        name,
        runtime.series,
        runtime.taxonomy,
        navigation_headings=runtime.settings.primary_series.navigation_headings,
        limits=parse_limits(runtime),
    )


async def ingest_documents(
    runtime: Runtime,
    documents: Iterable[tuple[str, bytes | OSError]],
    now: datetime | None = None,
    *,
    holds: Callable[[str], bool | None] | None = None,
) -> IngestReport:
    """Parse and save each (name, content); a bad document never stops the others.

    Two documents of one issue (date, or number in a numbered series) in a batch would
    overwrite each other on every run: the one the issue is archived from keeps it, else
    the first one wins, and the others fail, naming it. A document claiming an issue that
    another document not in the batch still holds is skipped with a warning (the module
    docstring). `holds(name)`: whether the source still has a document that is not in the
    batch (None: not one of its names, so it is looked up as a file).
    """
    report = IngestReport()
    moment = now or datetime.now(UTC)
    parsed: list[tuple[str, Issue]] = []
    for name, data in documents:
        if isinstance(data, Skipped):
            report.skip(name, 0, str(data).removeprefix("skipped: "))
            continue
        try:
            parsed.append((name, _parse(name, data, runtime)))
        except BriefingParseError as exc:
            await _not_parsed(runtime, report, exc, moment)
    # Judged on the archive as it was before this batch, so the order of files is no matter.
    owners = await _owners(runtime, parsed, holds or (lambda _: None))
    first_of: dict[date | int | None, str] = {}
    for name, issue in parsed:
        what = "date" if issue.number is None else "number"
        shown = f"{what} {issue_label(issue.key, issue.number)}"
        owner = owners.get(name)
        same = _identity(issue)
        if owner is not None and owner.holds and not owner.in_batch:
            report.skip(name, 0, f"issue {shown} is archived from {owner.path}, which holds it")
            continue
        earlier = owner.path if owner is not None and owner.holds else first_of.get(same)
        if earlier is not None:
            message = f"same issue {shown} as {earlier}; skipped"
            report.failures.append(BriefingParseError(name, 0, message))
            continue
        try:
            outcome = await _save(runtime, name, issue, moment, takes_over=owner is not None)
        except ValueError as exc:  # beyond what the archive can hold (e.g. the search ids)
            report.failures.append(BriefingParseError(name, 0, f"cannot archive: {exc}"))
            continue
        first_of[same] = name
        report.count(outcome, issue)
        report.warnings.extend(issue.warnings)  # also when unchanged: still unfinished
    if report.added or report.updated:
        await _sections_changed(runtime)
    return report


async def _sections_changed(runtime: Runtime) -> None:
    """A free-heading series' sections are its issues' (bot/series_sections.py): read them
    again, so readers and the web see a new section without a restart."""
    if runtime.sections_seen is not None:
        await runtime.sections_seen.read(runtime.series.slug)


async def _not_parsed(
    runtime: Runtime, report: IngestReport, exc: BriefingParseError, moment: datetime
) -> None:
    if not exc.unfinished:
        report.failures.append(exc)
        return
    report.skip(exc.path, exc.line, exc.message)
    if exc.key is not None:
        async with runtime.sessions.begin() as session:
            await note_placeholder(session, runtime.series.slug, exc.key, moment)


@dataclass(frozen=True, slots=True)
class _Owner:
    path: str  # the other document the archived issue came from
    holds: bool  # and it still holds that issue
    in_batch: bool  # that document is in this batch too


async def _owners(
    runtime: Runtime, parsed: list[tuple[str, Issue]], holds: Callable[[str], bool | None]
) -> dict[str, _Owner]:
    """For each document claiming an issue archived from another document: that one."""
    batch = {name: _identity(issue) for name, issue in parsed}  # what each claims now
    slug = runtime.series.slug
    owners: dict[str, _Owner] = {}
    async with runtime.sessions() as session:
        for name, issue in parsed:
            origin = await issue_origin(session, slug, issue)
            if origin is None or _same_document(origin.source_path, name):
                continue
            other, wanted = origin.source_path, _identity(issue)
            if other in batch:
                held = batch[other] == wanted
            elif _present(other, holds):  # unchanged since read: it holds what it held then
                newest = await newest_from(session, slug, other)
                held = newest is not None and _key_identity(*newest) == wanted
            else:  # renamed or deleted
                held = False
            owners[name] = _Owner(other, held, other in batch)
    return owners


async def _save(
    runtime: Runtime, name: str, issue: Issue, moment: datetime, *, takes_over: bool
) -> SaveOutcome:
    async with runtime.sessions.begin() as session:
        seen = None
        if issue.key is not None:
            seen = await placeholder_seen(session, runtime.series.slug, issue.key)
        result = await save_issue(session, issue, moment, on_saved=index_issue, first_seen=seen)
        if takes_over and result.outcome == "unchanged":  # renamed as it was
            await set_source_path(session, result.issue_id, name)
        return result.outcome


def _present(name: str, holds: Callable[[str], bool | None]) -> bool:
    """Whether the source still has the document: its own answer, else a file lookup."""
    known = holds(name)
    return _exists(name) if known is None else known


def _exists(name: str) -> bool:
    """Whether a document no source answers for (`holds` None) still exists: looked up as
    a file. Anything else (a URL no longer fetched, a path of a source since replaced,
    a relative path from another directory) counts as gone, so a new document can take
    its issue over: refusing it would refuse every later edit too."""
    try:
        return Path(name).exists()
    except (OSError, ValueError):  # a name too long or odd for the file system
        return False


def _same_document(one: str, other: str) -> bool:
    """Two spellings of one file (`briefbot ingest samples/` and the folder source's
    absolute paths) are one document."""
    if one == other:
        return True
    try:
        return os.path.samefile(one, other)
    except (OSError, ValueError):
        return False


def _identity(issue: Issue) -> date | int | None:
    return _key_identity(issue.key, issue.number)


def _key_identity(key: date | None, number: int | None) -> date | int | None:
    return key if number is None else number


def _parse(name: str, data: bytes | OSError, runtime: Runtime) -> Issue:
    if isinstance(data, TooLarge):
        raise BriefingParseError(name, 0, str(data))
    if isinstance(data, OSError):
        raise BriefingParseError(name, 0, f"cannot read: {data.strerror or data}")
    return parse_document(data, name, runtime)


def read_files(
    paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterable[tuple[str, bytes | OSError]]:
    """(name, content) per file, each read at most `max_bytes` (+1) bytes; a file that is
    not a regular file, too large or unreadable yields its error so it is reported."""
    for path in expand_paths(paths):
        yield read_document(path, max_bytes)
