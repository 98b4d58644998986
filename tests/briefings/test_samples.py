"""The project's own sample briefings parse cleanly and exercise every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefings.model import Issue
from briefings.parser import parse_issue
from tests.briefings._helpers import SERIES, TAXONOMY


def _parse(path: Path) -> Issue:
    return parse_issue(path.read_text(encoding="utf-8"), path.name, SERIES, TAXONOMY)


@pytest.fixture(scope="module")
def issues(samples_dir: Path) -> list[Issue]:
    paths = sorted(samples_dir.glob("*.md"))
    assert len(paths) >= 2
    return [_parse(path) for path in paths]


def test_samples_parse_without_warnings(issues: list[Issue]) -> None:
    for issue in issues:
        assert issue.warnings == (), issue.source_path
        assert issue.tagline and issue.intro and issue.quick_news and issue.footer
        assert {"news", "papers", "projects", "blogs"} <= {s.key for s in issue.sections}


def test_samples_have_arxiv_ids_links_and_topics(issues: list[Issue]) -> None:
    all_entries = [e for issue in issues for s in issue.sections for e in s.entries]
    assert sum(1 for e in all_entries if e.arxiv_id) >= 3
    assert any(link.label == "代码" for e in all_entries for link in e.links)
    topics = {t for e in all_entries for t in e.topics}
    assert {"chips", "quantization", "compression", "inference", "compilers"} <= topics
    assert all(e.title and e.url for e in all_entries if e.source != "Raspberry Pi")
