"""Read briefing files, parse them and save them into the archive (one transaction per file)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bot.runtime import Runtime
from briefings.errors import BriefingParseError
from briefings.model import Issue, ParseWarning
from briefings.parser import decode_briefing, parse_issue
from storage.issues import SaveOutcome, save_issue
from storage.search import index_issue


@dataclass(slots=True)
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[BriefingParseError] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    changed_keys: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def count(self, outcome: SaveOutcome, issue: Issue) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != "unchanged":
            self.changed_keys.append(issue.key.isoformat())

    def summary(self) -> str:
        return (
            f"{self.added} added / {self.updated} updated / "
            f"{self.unchanged} unchanged / {self.failed} failed"
        )


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders become their *.md files, sorted; missing paths are kept to fail."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.md")) if path.is_dir() else [path])
    return found


def parse_document(data: bytes, name: str, runtime: Runtime) -> Issue:
    settings = runtime.settings.series
    return parse_issue(
        decode_briefing(data, name),
        name,
        runtime.series,
        runtime.taxonomy,
        navigation_headings=settings.navigation_headings,
    )


async def ingest_documents(
    runtime: Runtime, documents: Iterable[tuple[str, bytes | OSError]], now: datetime | None = None
) -> IngestReport:
    """Parse and save each (name, content); a bad document never stops the others.

    Two documents of one issue date in a batch would overwrite each other on every run:
    the first one wins and the others fail, naming it.
    """
    report = IngestReport()
    moment = now or datetime.now(UTC)
    first_of: dict[date, str] = {}
    for name, data in documents:
        try:
            issue = _parse(name, data, runtime)
            if issue.key in first_of:
                message = f"same issue date {issue.key} as {first_of[issue.key]}; skipped"
                raise BriefingParseError(name, 0, message)
        except BriefingParseError as exc:
            report.failures.append(exc)
            continue
        try:
            async with runtime.sessions.begin() as session:
                result = await save_issue(session, issue, moment, on_saved=index_issue)
        except ValueError as exc:  # beyond what the archive can hold (e.g. the search ids)
            report.failures.append(BriefingParseError(name, 0, f"cannot archive: {exc}"))
            continue
        first_of[issue.key] = name
        report.count(result.outcome, issue)
        report.warnings.extend(issue.warnings)  # also when unchanged: still unfinished
    return report


def _parse(name: str, data: bytes | OSError, runtime: Runtime) -> Issue:
    if isinstance(data, OSError):
        raise BriefingParseError(name, 0, f"cannot read: {data.strerror or data}")
    return parse_document(data, name, runtime)


def read_files(paths: Iterable[Path]) -> Iterable[tuple[str, bytes | OSError]]:
    """(name, content) per file; an unreadable file yields its error so it is reported."""
    for path in expand_paths(paths):
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            yield str(path), exc
