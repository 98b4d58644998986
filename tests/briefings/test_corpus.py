"""The real corpus (../shared/corpus) parses completely; counts are checked independently.

The expected numbers come from a deliberately naive scan of the raw text, not from
the parser: a `## ` line opens a section, a column-0 `- ` line is an item, and a
`---`-style rule ends the counted part (the editor/licence footer follows it).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown
import pytest

from briefings.model import Issue
from briefings.parser import parse_issue
from tests.briefings._helpers import SERIES, TAXONOMY
from tests.conftest import corpus_files

pytestmark = pytest.mark.corpus

NAMES = [path.name for path in corpus_files()] or ["<corpus absent>"]
RULE = re.compile(r"\s*([-*_])(\s*\1){2,}\s*")
FIRST_URL = re.compile(r"\]\((https?://[^\s)]+)")
STATED_COUNT = re.compile(r"本[次期](?:内容)?(\d+)条")
INLINE_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((https?://[^)\s]+)\)")


def scan_items(text: str) -> list[tuple[str, int]]:
    """(heading, number of column-0 `- ` lines) for every `## ` section, in file order."""
    counts: list[tuple[str, int]] = []
    counting = False
    for line in text.splitlines():
        if line.startswith("## "):
            counts.append((line[3:].strip(), 0))
            counting = True
        elif RULE.fullmatch(line):
            counting = False
        elif counting and line.startswith("- "):
            heading, count = counts[-1]
            counts[-1] = (heading, count + 1)
    return counts


def _parse(corpus_dir: Path, name: str) -> tuple[str, Issue]:
    text = (corpus_dir / name).read_text(encoding="utf-8")
    return text, parse_issue(text, name, SERIES, TAXONOMY)


@pytest.mark.parametrize("name", NAMES)
def test_issue_entries_match_an_independent_count(corpus_dir: Path, name: str) -> None:
    text, issue = _parse(corpus_dir, name)
    expected = [(h, n) for h, n in scan_items(text) if "往期回顾" not in h]
    assert [(s.heading, len(s.entries)) for s in issue.sections] == expected
    assert all("往期回顾" not in s.heading for s in issue.sections)
    assert issue.key.isoformat() == name.removesuffix(".md")


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_has_a_title_and_keeps_its_link(corpus_dir: Path, name: str) -> None:
    text, issue = _parse(corpus_dir, name)
    lines = text.splitlines()
    for entry in (e for s in issue.sections for e in s.entries):
        written = lines[entry.line - 1]
        assert written.startswith("- "), (entry.line, written)
        assert entry.title.strip() == entry.title != ""
        link = FIRST_URL.search(written)
        if link:
            assert entry.url == link.group(1), (entry.line, entry.url)
        arxiv = re.match(r"- \[(\d{4}\.\d{4,5}(?:v\d+)?)\]", written)
        if arxiv:
            assert entry.arxiv_id == arxiv.group(1)
    for warning in issue.warnings:  # recoverable defects must point into the file
        assert 1 <= warning.line <= len(lines), warning


@pytest.mark.parametrize("name", NAMES)
def test_summaries_stay_renderable_markdown(corpus_dir: Path, name: str) -> None:
    """Normalising lines must not break inline links: each renders as an <a href>."""
    _, issue = _parse(corpus_dir, name)
    for entry in (e for s in issue.sections for e in s.entries):
        rendered = html.unescape(markdown.markdown(entry.summary))
        for url in INLINE_LINK.findall(entry.summary):
            assert f'href="{url}"' in rendered, (entry.line, url)
        assert "摘要：" not in entry.summary[:3]


def test_corpus_total_is_plausible(corpus_dir: Path) -> None:
    issues = [_parse(corpus_dir, path.name)[1] for path in sorted(corpus_dir.glob("*.md"))]
    total = sum(issue.entry_count for issue in issues)
    print(f"\ncorpus: {len(issues)} issues, {total} entries")
    assert len(issues) == 34
    assert all(issue.entry_count >= 10 for issue in issues)
    assert 15 * len(issues) <= total <= 25 * len(issues), total
    # The editor states "本次N条" in later intros; the parse agrees within one.
    stated = [(i, int(m.group(1))) for i in issues if (m := STATED_COUNT.search(i.intro))]
    assert len(stated) >= 10
    assert all(abs(i.entry_count - n) <= 1 for i, n in stated), [
        (i.source_path, i.entry_count, n) for i, n in stated
    ]
