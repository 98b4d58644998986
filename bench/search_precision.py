"""Search precision: P@5 on the judged query set (bench/search_queries.toml), before and after.

    .venv/bin/python bench/search_precision.py                 # this tree, and the code at --before
    .venv/bin/python bench/search_precision.py --before none   # this tree only
    .venv/bin/python bench/search_precision.py --unjudged      # list top-5 hits not yet judged

The real corpus (../shared/corpus/embedded-ai-report, 34 issues) is ingested into a
temporary SQLite archive (both databases rank alike: tests/search) and each query's
first page of five is judged. "Before" is the ranking at another commit (default: the
one before word-aware ranking, bm25 over the newest 200 matches): its `briefings` and
`storage` packages are exported with `git archive` into a temporary folder and this
script runs again on them in a child process, so no old code is kept in the tree.

Judgments were pooled, as TREC does: every hit in either ranking's top five was judged
by reading its title and summary, so both rankings are scored on the same judgments. A
hit counted neither relevant nor irrelevant is reported as unjudged (and counts as not
relevant); `--unjudged` lists them after the query set or the ranking changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "embedded-ai-report"
QUERIES = Path(__file__).with_name("search_queries.toml")
BEFORE = "7404571"  # the last commit ranking by bm25 over the newest 200 matches
DEPTH = 5


def load_queries() -> list[dict[str, object]]:
    return tomllib.loads(QUERIES.read_text(encoding="utf-8"))["query"]


async def rankings(queries: list[str], depth: int) -> dict[str, list[str]]:
    """`date title` of the first `depth` hits of each query, on a fresh archive."""
    from briefings.model import Series
    from briefings.parser import decode_briefing, parse_issue
    from briefings.taxonomy import Taxonomy
    from storage.db import create_engine, session_factory, upgrade_database
    from storage.issues import save_issue
    from storage.search import index_issue, search

    series = Series("embedded-ai", "嵌入式AI简报")
    taxonomy = Taxonomy.default()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/precision.sqlite3")
        try:
            await upgrade_database(engine)
            factory = session_factory(engine)
            async with factory() as session, session.begin():
                for path in sorted(CORPUS.glob("*.md")):
                    text = decode_briefing(path.read_bytes(), str(path))
                    issue = parse_issue(text, str(path), series, taxonomy)
                    await save_issue(session, issue, datetime.now(UTC), on_saved=index_issue)
            found: dict[str, list[str]] = {}
            async with factory() as session:
                for query in queries:
                    page = await search(session, query, series_slug=series.slug, per_page=depth)
                    found[query] = [f"{hit.issue_key} {hit.title}" for hit in page.hits]
            return found
        finally:
            await engine.dispose()


def rankings_at(rev: str, queries: list[str], depth: int) -> dict[str, list[str]]:
    """The same rankings computed by the code at git revision `rev`, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", rev, "briefings", "storage"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = os.environ | {"PYTHONPATH": tmp}  # ahead of the editable install's finder
        out = subprocess.run(
            [sys.executable, __file__, "--emit", json.dumps(queries), "--depth", str(depth)],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return json.loads(out.splitlines()[-1])


def is_judged(hit: str, keys: list[str]) -> bool:
    """A judgment `YYYY-MM-DD title-prefix` names the hit of that issue whose title starts so."""
    return any(hit.startswith(key) for key in keys)


def score(case: dict[str, object], hits: list[str]) -> tuple[float, list[str]]:
    relevant = list(case.get("relevant", []))  # type: ignore[call-overload]
    irrelevant = list(case.get("irrelevant", []))  # type: ignore[call-overload]
    good = sum(is_judged(h, relevant) for h in hits)
    unjudged = [h for h in hits if not is_judged(h, relevant) and not is_judged(h, irrelevant)]
    return good / DEPTH, unjudged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision to compare, or none")
    parser.add_argument("--unjudged", action="store_true", help="list unjudged top-5 hits")
    parser.add_argument("--emit", help=argparse.SUPPRESS)  # child process: JSON rankings
    parser.add_argument("--depth", type=int, default=DEPTH, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        print(json.dumps(asyncio.run(rankings(json.loads(args.emit), args.depth))))
        return
    if not CORPUS.is_dir():
        print(f"SKIPPED: the corpus is not at {CORPUS}")
        return
    cases = load_queries()
    queries = [str(c["q"]) for c in cases]
    columns = {"after": asyncio.run(rankings(queries, DEPTH))}
    if args.before != "none":
        columns = {"before": rankings_at(args.before, queries, DEPTH)} | columns
    print(f"| query | {' | '.join(f'P@5 {name}' for name in columns)} | note |")
    print(f"|---|{'---:|' * len(columns)}---|")
    totals = dict.fromkeys(columns, 0.0)
    missing: dict[str, set[str]] = {}
    for case in cases:
        cells = []
        for name, found in columns.items():
            p, unjudged = score(case, found[str(case["q"])])
            totals[name] += p
            cells.append(f"{p:.1f}")
            missing.setdefault(str(case["q"]), set()).update(unjudged)
        print(f"| `{case['q']}` | {' | '.join(cells)} | {case.get('note', '')} |")
    means = " | ".join(f"**{totals[name] / len(cases):.3f}**" for name in columns)
    print(f"| **mean of {len(cases)}** | {means} | |")
    unjudged_count = sum(len(v) for v in missing.values())
    print(f"\nunjudged hits in the top {DEPTH}s (counted as not relevant): {unjudged_count}")
    if args.unjudged:
        for query, hits in missing.items():
            for hit in sorted(hits):
                print(f"{query}\t{hit}")


if __name__ == "__main__":
    main()
