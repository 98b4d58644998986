"""Git source against local bare repositories made with the git CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sources.base import SourceError
from bot.sources.git import GitSource, normalize_glob, path_matches
from tests.publish.helpers import GitRemote, briefing, git

Sessions = async_sessionmaker[AsyncSession]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("embedded-ai-report/*.md", "embedded-ai-report/2019-03-31.md", True),
        ("embedded-ai-report/*.md", "embedded-ai-report/sub/2019-03-31.md", False),
        ("embedded-ai-report/*.md", "README.md", False),
        ("**/*.md", "README.md", True),
        ("**/*.md", "a/b/c.md", True),
        ("a/**/x-*.md", "a/x-1.md", True),
        ("a/**/x-*.md", "a/b/c/x-2.md", True),
        ("a/**/x-*.md", "a/b/y-2.md", False),
    ],
)
def test_path_matches(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


def test_normalize_glob() -> None:
    assert normalize_glob("embedded-ai-report/") == "embedded-ai-report/*.md"
    assert normalize_glob("embedded-ai-report") == "embedded-ai-report/*.md"
    assert normalize_glob("./reports/2019-*.md") == "reports/2019-*.md"
    assert normalize_glob("") == "**/*.md"


def _source(remote: GitRemote, tmp_path: Path, sessions: Sessions, **kw: str) -> GitSource:
    return GitSource(
        kw.get("name", "repo"),
        kw.get("url", remote.url),
        kw.get("branch", "master"),
        kw.get("pattern", "embedded-ai-report/"),
        tmp_path / "cache" / "repo",
        sessions,
    )


async def test_clone_then_only_changed_blobs_are_returned(
    tmp_path: Path, session_factory: Sessions
) -> None:
    remote = GitRemote(tmp_path)
    remote.commit(
        {
            "README.md": "# readme\n",
            "embedded-ai-report/2026-11-02.md": briefing(version="a"),
            "embedded-ai-report/2026-11-16.md": briefing(version="b"),
            "embedded-ai-report/img/x.md": "nested: not matched\n",
        }
    )
    source = _source(remote, tmp_path, session_factory)
    docs = await source.fetch()
    assert [name for name, _ in docs] == [
        "embedded-ai-report/2026-11-02.md",
        "embedded-ai-report/2026-11-16.md",
    ]
    assert "本期 a。".encode() in docs[0][1]  # type: ignore[operator]
    await source.commit([docs[0][0]])  # the second one "failed to parse"

    remote.commit({"embedded-ai-report/2026-11-02.md": briefing(version="a2")})
    restarted = _source(remote, tmp_path, session_factory)  # cursors live in the kv state
    docs = await restarted.fetch()
    assert sorted(name for name, _ in docs) == [
        "embedded-ai-report/2026-11-02.md",
        "embedded-ai-report/2026-11-16.md",
    ]
    await restarted.commit([name for name, _ in docs])
    assert await restarted.fetch() == []


async def test_force_push_deleted_files_and_a_broken_checkout(
    tmp_path: Path, session_factory: Sessions
) -> None:
    remote = GitRemote(tmp_path)
    remote.commit({"embedded-ai-report/2026-11-02.md": briefing(version="a")})
    source = _source(remote, tmp_path, session_factory)
    await source.commit([n for n, _ in await source.fetch()])

    # History rewritten: the checkout follows origin, not a merge of both.
    git("reset", "--quiet", "--hard", "HEAD", cwd=remote.work)
    git("commit", "--quiet", "--amend", "-m", "rewritten", cwd=remote.work)
    remote.commit({"embedded-ai-report/2026-11-02.md": briefing(version="rewritten")})
    docs = await source.fetch()
    assert len(docs) == 1 and "本期 rewritten".encode() in docs[0][1]  # type: ignore[operator]

    shutil.rmtree(source.checkout / ".git")  # not a clone any more: cloned afresh
    remote.commit({"embedded-ai-report/2026-11-02.md": None, "other.txt": "x"})
    assert await source.fetch() == []
    assert (source.checkout / "other.txt").is_file()
    await source.commit([])
    remote.commit({"embedded-ai-report/2026-11-02.md": briefing(version="back")})
    assert len(await source.fetch()) == 1  # deleted, then restored: read again


async def test_unreachable_repository_and_missing_branch_raise_source_error(
    tmp_path: Path, session_factory: Sessions
) -> None:
    remote = GitRemote(tmp_path)
    remote.commit({"embedded-ai-report/2026-11-02.md": briefing()})
    missing = _source(remote, tmp_path, session_factory, url=str(tmp_path / "nope.git"))
    with pytest.raises(SourceError, match="git clone failed"):
        await missing.fetch()
    wrong_branch = _source(remote, tmp_path, session_factory, branch="gh-pages")
    with pytest.raises(SourceError, match="gh-pages"):
        await wrong_branch.fetch()
