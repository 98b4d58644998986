"""Builders for small inline briefings used by the parser unit tests."""

from __future__ import annotations

from collections.abc import Collection

from briefings.model import Entry, Issue, Series
from briefings.parser import DEFAULT_NAVIGATION_HEADINGS, parse_issue
from briefings.taxonomy import Taxonomy

SERIES = Series(slug="embedded-ai", title="嵌入式AI简报")
TAXONOMY = Taxonomy.default()
HEAD = "---\nlayout: default\n---\n\n# 嵌入式AI简报 (2026-01-05)\n\n**关注端侧AI**  \n\n"


def doc(*lines: str, head: str = HEAD) -> str:
    """A briefing: standard head plus the given lines (exact whitespace kept)."""
    return head + "\n".join(lines) + "\n"


def parse(
    text: str,
    taxonomy: Taxonomy = TAXONOMY,
    navigation_headings: Collection[str] = DEFAULT_NAVIGATION_HEADINGS,
) -> Issue:
    return parse_issue(text, "t.md", SERIES, taxonomy, navigation_headings=navigation_headings)


def entries(text: str) -> list[Entry]:
    return [e for s in parse(text).sections for e in s.entries]


def one_entry(*lines: str) -> Entry:
    """The single entry of a `## 论文` section made of `lines`."""
    found = entries(doc("## 论文", "", *lines))
    assert len(found) == 1, found
    return found[0]


def messages(issue: Issue) -> list[str]:
    return [w.message for w in issue.warnings]
