"""Read briefing files, parse them and save them into the archive (one transaction per file)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    """Parse and save each (name, content); a bad document never stops the others."""
    report = IngestReport()
    moment = now or datetime.now(UTC)
    for name, data in documents:
        try:
            if isinstance(data, OSError):
                raise BriefingParseError(name, 0, f"cannot read: {data.strerror or data}")
            issue = parse_document(data, name, runtime)
        except BriefingParseError as exc:
            report.failures.append(exc)
            continue
        async with runtime.sessions.begin() as session:
            result = await save_issue(session, issue, moment, on_saved=index_issue)
        report.count(result.outcome, issue)
        if result.outcome != "unchanged":
            report.warnings.extend(issue.warnings)
    return report


def read_files(paths: Iterable[Path]) -> Iterable[tuple[str, bytes | OSError]]:
    """(name, content) per file; an unreadable file yields its error so it is reported."""
    for path in expand_paths(paths):
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            yield str(path), exc
