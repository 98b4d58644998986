"""A document at a new path claiming an issue archived from another document that still
holds it is refused with a warning naming both: the archived (published) issue keeps its
content, no correction is queued, the poll does not fail and the rest of the batch is
ingested. A renamed document (same content or the old path gone) and a `current.md`
rotated into an archive file take their issue over. Both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import SeriesSettings, Settings, SourceSettings, layout_of
from bot.ingest import IngestReport, ingest_documents, read_files
from bot.runtime import Runtime
from bot.sources.poller import SourcePoller, build_pollers
from storage import corrections
from storage.issues import load_issue
from storage.models import IssueRow
from storage.publication import claim_publication
from tests.publish.helpers import KEY, GitRemote, briefing, make_runtime, utc

NOW = utc(12, 11, 9)


def weekly(number: int, news: str) -> str:
    """A numbered English weekly in the "This Week in X" shape, written for the tests."""
    return f"""# This Week in Widgets #{number}

Hello and welcome to issue {number}.

## News

- [{news}](https://example.com/widgets/{number}/news)
  Summary: what changed in release {number}.
"""


def numbered(engine: AsyncEngine, folder: Path | None = None) -> Runtime:
    series = SeriesSettings(slug="widgets", title="W", languages=["en"], layout="this-week-in")
    source = SourceSettings(kind="folder", name="w", path=str(folder or "."))
    runtime = make_runtime(engine, Settings(series=series, sources=[source]))
    return replace(runtime, layout=layout_of("this-week-in"))


def poller(runtime: Runtime) -> SourcePoller:
    (one,) = build_pollers(runtime, FixedClock(NOW))
    return one


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def rows(runtime: Runtime) -> dict[int | date | None, tuple[str, str]]:
    """Each archived issue (number, or date) -> (its file's name, its first entry's title)."""
    async with runtime.sessions() as session:
        found = await session.execute(select(IssueRow.id, IssueRow.source_path))
        result: dict[int | date | None, tuple[str, str]] = {}
        for issue_id, path in found.all():
            issue = await load_issue(session, issue_id)
            assert issue is not None
            key = issue.key if issue.number is None else issue.number
            result[key] = (Path(path).name, issue.sections[0].entries[0].title)
        return result


async def publish(runtime: Runtime, number: int) -> int:
    async with runtime.sessions.begin() as session:
        issue_id = await session.scalar(select(IssueRow.id).where(IssueRow.number == number))
        assert issue_id is not None
        assert await claim_publication(session, issue_id, NOW) is not None
        return issue_id


def refusal(report: IngestReport) -> list[str]:
    return [f"{Path(w.path).name}: {w.message}" for w in report.warnings]


async def test_a_new_file_claiming_a_published_number_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The reviewer's ts3: `current.md` is published #61; a new file (sorted before it)
    claims #61 too. It is refused, #61 keeps its content, later files are ingested, and
    `current.md` goes on being ingested (it used to fail every poll)."""
    folder = tmp_path / "w"
    write(folder, "current.md", weekly(61, "Sixty-one"))
    runtime = numbered(engine, folder)
    source = poller(runtime)
    first = await source.poll(force=True)
    assert first is not None and first.ok and first.report and first.report.added == 1
    issue_id = await publish(runtime, 61)

    write(folder, "2026-12-11-this-week-in-widgets.md", weekly(61, "Mis-numbered"))
    write(folder, "issue-62.md", weekly(62, "Sixty-two"))
    result = await source.poll(force=True)
    assert result is not None and result.ok and result.error is None
    report = result.report
    assert report is not None
    assert (report.added, report.updated, report.failed, report.skipped) == (1, 0, 0, 1)
    assert refusal(report) == [
        "2026-12-11-this-week-in-widgets.md: issue number #61 (2026-12-11) is archived from "
        f"{folder / 'current.md'}, which holds it; skipped"
    ]
    assert await rows(runtime) == {
        61: ("current.md", "Sixty-one"),
        62: ("issue-62.md", "Sixty-two"),
    }
    async with runtime.sessions() as session:
        assert await corrections.sent_entries(session, issue_id) is None  # nothing to correct

    write(folder, "current.md", weekly(61, "Sixty-one, fixed"))
    result = await source.poll(force=True)
    assert result is not None and result.ok and result.report is not None
    assert (result.report.updated, result.report.failed) == (1, 0)
    assert (await rows(runtime))[61] == ("current.md", "Sixty-one, fixed")


async def test_the_archived_file_keeps_its_issue_whatever_the_order(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Both files in one batch (a restart reads every file): the one the issue is archived
    from keeps it, before or after the newcomer, which fails naming it, on every run."""
    folder = tmp_path / "w"
    owner = write(folder, "m-current.md", weekly(61, "Sixty-one"))
    runtime = numbered(engine, folder)
    await ingest_documents(runtime, read_files([folder]), NOW)
    for run, newcomer in enumerate(("a-new.md", "z-new.md", "z-new.md")):
        write(folder, newcomer, weekly(61, f"Claimed by {newcomer}"))
        write(folder, "m-current.md", weekly(61, f"Edit {run}"))
        report = await ingest_documents(runtime, read_files([folder]), NOW)
        assert (report.updated, report.skipped) == (1, 0), newcomer
        assert [str(f) for f in report.failures] == [
            f"{folder / newcomer}: same issue number #61 as {owner}; skipped"
        ]
        assert (await rows(runtime))[61] == ("m-current.md", f"Edit {run}")
        (folder / newcomer).unlink()

    owner.write_bytes(b"\x00\x01 not a briefing")  # it still holds #61 as archived
    write(folder, "z-new.md", weekly(61, "Claimed while the owner is broken"))
    report = await ingest_documents(runtime, read_files([folder]), NOW)
    assert [f.path for f in report.failures] == [str(owner)]
    assert (report.updated, report.skipped) == (0, 1)
    assert report.warnings[0].path == str(folder / "z-new.md")
    assert (await rows(runtime))[61] == ("m-current.md", "Edit 2")


async def test_a_renamed_file_takes_its_issue_along(engine: AsyncEngine, tmp_path: Path) -> None:
    folder = tmp_path / "w"
    old = write(folder, "current.md", weekly(61, "Sixty-one"))
    runtime = numbered(engine, folder)
    await ingest_documents(runtime, read_files([folder]), NOW)

    old.rename(folder / "061.md")  # the same content: unchanged, now from 061.md
    report = await ingest_documents(runtime, read_files([folder]), NOW)
    assert (report.unchanged, report.skipped, report.warnings) == (1, 0, [])
    assert await rows(runtime) == {61: ("061.md", "Sixty-one")}

    (folder / "061.md").rename(folder / "issue-61.md")  # renamed and edited at once
    write(folder, "issue-61.md", weekly(61, "Sixty-one, edited"))
    report = await ingest_documents(runtime, read_files([folder]), NOW)
    assert (report.updated, report.skipped) == (1, 0)
    assert await rows(runtime) == {61: ("issue-61.md", "Sixty-one, edited")}


async def test_current_rotated_into_an_archive_file(engine: AsyncEngine, tmp_path: Path) -> None:
    """`current.md` holds the next issue; the finished one moves to its own file, edited.
    In one batch or in two polls, the new file takes the issue over."""
    folder = tmp_path / "w"
    write(folder, "current.md", weekly(61, "Sixty-one"))
    runtime = numbered(engine, folder)
    await ingest_documents(runtime, read_files([folder]), NOW)
    write(folder, "current.md", weekly(62, "Sixty-two"))
    write(folder, "061.md", weekly(61, "Sixty-one, final"))
    report = await ingest_documents(runtime, read_files([folder]), NOW)
    assert (report.added, report.updated, report.skipped) == (1, 1, 0)
    assert await rows(runtime) == {
        61: ("061.md", "Sixty-one, final"),
        62: ("current.md", "Sixty-two"),
    }

    # Two polls: current.md moved on to #63 first; 062.md comes later, alone.
    write(folder, "current.md", weekly(63, "Sixty-three"))
    source = poller(runtime)
    await source.poll(force=True)
    write(folder, "062.md", weekly(62, "Sixty-two, final"))
    result = await source.poll(force=True)
    assert result is not None and result.report is not None
    assert (result.report.updated, result.report.skipped) == (1, 0)
    assert (await rows(runtime))[62] == ("062.md", "Sixty-two, final")


async def test_a_dated_issue_and_two_spellings_of_one_file(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dated issues likewise; `briefbot ingest eai/x.md` and the folder source's absolute
    path are one file, never a claim by another document."""
    folder = tmp_path / "eai"
    write(folder, f"{KEY}.md", briefing(version="v1"))
    runtime = make_runtime(engine, Settings())
    monkeypatch.chdir(tmp_path)
    report = await ingest_documents(runtime, read_files([Path("eai") / f"{KEY}.md"]), NOW)
    assert report.added == 1
    write(folder, f"{KEY}.md", briefing(version="v2"))
    report = await ingest_documents(runtime, read_files([folder]), NOW)
    assert (report.updated, report.skipped) == (1, 0)

    write(folder, "copy.md", briefing(version="v3"))
    report = await ingest_documents(runtime, read_files([folder / "copy.md"]), NOW)
    assert (report.updated, report.skipped) == (0, 1)
    assert report.warnings[0].message == (
        f"issue date {KEY} is archived from {folder / f'{KEY}.md'}, which holds it; skipped"
    )


async def test_names_that_are_no_files_keep_their_issue_only_if_the_source_holds_them(
    engine: AsyncEngine,
) -> None:
    """A git path or URL cannot be looked up here: its issue stays with it while the
    source's `holds` says it still has that document; a name no source answers for (a
    URL no longer fetched, a path of a source since replaced) counts as gone, so its
    issue moves instead of refusing every later edit."""
    runtime = numbered(engine)
    docs = [("weekly/current.md", weekly(61, "Sixty-one").encode())]
    assert (await ingest_documents(runtime, docs, NOW)).added == 1
    moved = [("weekly/061.md", weekly(61, "Sixty-one, final").encode())]
    report = await ingest_documents(runtime, moved, NOW, holds=lambda name: True)
    assert (report.updated, report.skipped) == (0, 1)
    assert "archived from weekly/current.md, which holds it" in report.warnings[0].message
    report = await ingest_documents(runtime, moved, NOW)  # nobody answers for current.md
    assert (report.updated, report.skipped) == (1, 0)
    assert await rows(runtime) == {61: ("061.md", "Sixty-one, final")}


async def test_a_git_source_tells_a_rename_from_a_second_file(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """A git poll reads only changed files; the tree says whether the file an issue came
    from is still there (a second file claiming it) or not (renamed, and edited)."""
    remote = GitRemote(tmp_path)
    remote.commit({f"report/{KEY}.md": briefing(version="v1")})
    source = SourceSettings(kind="git", name="g", url=remote.url, branch="master", path="report/")
    runtime = make_runtime(engine, Settings(sources=[source]))
    (git_poller,) = build_pollers(runtime, FixedClock(NOW), tmp_path / "cache")
    first = await git_poller.poll(force=True)
    assert first is not None and first.report is not None and first.report.added == 1

    remote.commit({"report/copy.md": briefing(version="v2")})  # the H1 gives the same date
    result = await git_poller.poll(force=True)
    assert result is not None and result.ok and result.report is not None
    assert (result.report.updated, result.report.skipped) == (0, 1)
    assert result.report.warnings[0].message == (
        f"issue date {KEY} is archived from report/{KEY}.md, which holds it; skipped"
    )

    remote.commit({f"report/{KEY}.md": None, "report/copy.md": None})
    remote.commit({"report/renamed.md": briefing(version="v3")})
    result = await git_poller.poll(force=True)
    assert result is not None and result.report is not None
    assert (result.report.updated, result.report.skipped) == (1, 0)
    async with runtime.sessions() as session:
        issue = await load_issue(session, 1)
    assert issue is not None and issue.source_path == "report/renamed.md"
    assert "本期 v3" in issue.intro
