"""The `embedded-ai` layout parses the real corpus exactly as the parser did before layouts.

`corpus_snapshot.json` holds, per corpus file, a digest of every entry (section key,
heading, title, source, URL, summary, links, arXiv id, line) and of the issue's key and
front parts, taken from the parser as it was before it was driven by a `Layout`. Only
digests are stored: the corpus text stays out of the project. If a parser change is
meant to change what the corpus yields, regenerate with `python -m
tests.briefings.test_layout_corpus` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from briefings.model import Issue
from briefings.parser import parse_issue, parse_with_layout
from briefings.presets import preset
from tests.briefings._helpers import SERIES, TAXONOMY
from tests.conftest import CORPUS_DIR, corpus_files

pytestmark = pytest.mark.corpus

SNAPSHOT = Path(__file__).with_name("corpus_snapshot.json")
NAMES = [path.name for path in corpus_files()] or ["<corpus absent>"]


def fingerprint(issue: Issue) -> dict[str, object]:
    entries = [
        [s.key, s.heading, e.position, e.title, e.source, e.url, e.summary,
         [[link.label, link.url] for link in e.links], e.arxiv_id, e.line]
        for s in issue.sections
        for e in s.entries
    ]  # fmt: skip
    front = [issue.key.isoformat() if issue.key else None, issue.title, issue.subtitle,
             issue.tagline, issue.intro, list(issue.quick_news), list(issue.notes),
             [list(s.notes) for s in issue.sections], issue.footer,
             [[w.line, w.message, w.unfinished] for w in issue.warnings]]  # fmt: skip
    digest = hashlib.sha256(json.dumps(entries, ensure_ascii=False).encode()).hexdigest()
    whole = hashlib.sha256(json.dumps(front, ensure_ascii=False).encode()).hexdigest()
    return {"entries": len(entries), "entries_sha256": digest, "rest_sha256": whole}


def _read(corpus_dir: Path, name: str) -> str:
    return (corpus_dir / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_corpus_entries_are_unchanged(corpus_dir: Path, name: str) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[name]
    issue = parse_issue(_read(corpus_dir, name), name, SERIES, TAXONOMY)
    assert fingerprint(issue) == expected


@pytest.mark.parametrize("name", NAMES)
def test_the_preset_path_is_the_default_path(corpus_dir: Path, name: str) -> None:
    text = _read(corpus_dir, name)
    default = parse_issue(text, name, SERIES, TAXONOMY)
    parsed = parse_with_layout(text, name, SERIES, TAXONOMY, preset("embedded-ai"))
    assert parsed.issue == default
    assert parsed.left_out == ()


def test_snapshot_covers_the_whole_corpus(corpus_dir: Path) -> None:
    assert sorted(json.loads(SNAPSHOT.read_text(encoding="utf-8"))) == NAMES


def _regenerate() -> None:
    snapshot = {
        path.name: fingerprint(
            parse_issue(path.read_text(encoding="utf-8"), path.name, SERIES, TAXONOMY)
        )
        for path in sorted(CORPUS_DIR.glob("*.md"))
    }
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(snapshot)} issues -> {SNAPSHOT}", file=sys.stderr)


if __name__ == "__main__":
    _regenerate()
