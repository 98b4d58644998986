"""Every real issue renders on every platform within limits, for the whole issue and
for each single section, with no content lost and no more than ceil(total/limit)+1
messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from briefings.model import Issue, Series
from briefings.parser import parse_issue
from briefings.taxonomy import Taxonomy
from tests.conftest import corpus_files

from .helpers import (
    check_messages,
    check_view,
    comparable,
    renderers,
    split_content,
    strict_bound,
    unlimited,
    visible,
)

pytestmark = pytest.mark.corpus

SERIES = Series("embedded-ai", "嵌入式AI简报")
NAMES = [path.name for path in corpus_files()] or ["<corpus absent>"]
PLATFORMS = {k: v for k, v in renderers().items() if not k.endswith("-tight")}
LITERAL_BULLET = re.compile(r"\s*[-*+] ")
EMPHASIS = re.compile(r"\*\*|`")  # titles are shown without their markup


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.default()


def load(corpus_dir: Path, name: str, taxonomy: Taxonomy) -> Issue:
    text = (corpus_dir / name).read_text(encoding="utf-8")
    return parse_issue(text, name, SERIES, taxonomy)


@pytest.mark.parametrize("name", NAMES)
def test_issue_renders_everywhere(corpus_dir: Path, taxonomy: Taxonomy, name: str) -> None:
    issue = load(corpus_dir, name, taxonomy)
    assert issue.entry_count > 0
    for renderer in PLATFORMS.values():
        messages = renderer.issue(issue)
        check_messages(renderer, messages)
        [whole] = unlimited(renderer).issue(issue)
        assert len(messages) <= strict_bound(renderer, whole), (type(renderer).__name__, name)
        assert split_content(renderer, messages) == comparable(
            renderer, visible(renderer, whole.text)
        )
        for message in messages:  # lists are shown as list lines, never as "- item"
            for line in visible(renderer, message.text).split("\n"):
                assert not LITERAL_BULLET.match(line), (name, line)
        if renderer is PLATFORMS["telegram"]:  # every entry is there, titled
            shown = visible(renderer, whole.text)
            for entry in (e for s in issue.sections for e in s.entries):
                assert " ".join(EMPHASIS.sub("", entry.title).split()) in shown


@pytest.mark.parametrize("name", NAMES)
def test_each_section_renders_everywhere(corpus_dir: Path, taxonomy: Taxonomy, name: str) -> None:
    issue = load(corpus_dir, name, taxonomy)
    for renderer in PLATFORMS.values():
        for section in issue.sections:
            check_view(renderer, lambda r, s=section: r.sections(issue, [s.key]))
        check_messages(renderer, renderer.overview(issue))
        check_messages(renderer, renderer.digest(issue))
