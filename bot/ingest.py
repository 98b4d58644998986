"""Read briefing files, parse them and save them into the archive (one transaction per file).

Every document is bounded before it is parsed: at most `ingest.max_file_bytes` bytes
(read that way, see `bot.sources.files`), `ingest.max_sections` sections and
`ingest.max_entries` entries (and no more entries per section than the archive holds).
Files that are not regular files and authors' placeholders (an empty file, a title
without sections yet) are skipped with a warning; everything else that cannot be
archived is a failure naming the file.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    note_placeholder,
    placeholder_seen,
    save_issue,
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
    runtime: Runtime, documents: Iterable[tuple[str, bytes | OSError]], now: datetime | None = None
) -> IngestReport:
    """Parse and save each (name, content); a bad document never stops the others.

    Two documents of one issue (date, or number in a numbered series) in a batch would
    overwrite each other on every run: the first one wins and the others fail, naming it.
    """
    report = IngestReport()
    moment = now or datetime.now(UTC)
    first_of: dict[date | int | None, str] = {}
    for name, data in documents:
        if isinstance(data, Skipped):
            report.skip(name, 0, str(data).removeprefix("skipped: "))
            continue
        try:
            issue = _parse(name, data, runtime)
            same = _identity(issue)
            if same in first_of:
                what = "date" if issue.number is None else "number"
                shown = issue_label(issue.key, issue.number)
                message = f"same issue {what} {shown} as {first_of[same]}; skipped"
                raise BriefingParseError(name, 0, message)
        except BriefingParseError as exc:
            if exc.unfinished:
                report.skip(name, exc.line, exc.message)
                if exc.key is not None:
                    async with runtime.sessions.begin() as session:
                        await note_placeholder(session, runtime.series.slug, exc.key, moment)
            else:
                report.failures.append(exc)
            continue
        try:
            async with runtime.sessions.begin() as session:
                seen = None
                if issue.key is not None:
                    seen = await placeholder_seen(session, runtime.series.slug, issue.key)
                result = await save_issue(
                    session, issue, moment, on_saved=index_issue, first_seen=seen
                )
        except ValueError as exc:  # beyond what the archive can hold (e.g. the search ids)
            report.failures.append(BriefingParseError(name, 0, f"cannot archive: {exc}"))
            continue
        first_of[_identity(issue)] = name
        report.count(result.outcome, issue)
        report.warnings.extend(issue.warnings)  # also when unchanged: still unfinished
    return report


def _identity(issue: Issue) -> date | int | None:
    return issue.key if issue.number is None else issue.number


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
