"""Search latency and index build time on the corpus replicated to ~100k entries.

    .venv/bin/python bench/search_bench.py                 # both databases
    .venv/bin/python bench/search_bench.py --db sqlite --build hook
    .venv/bin/python bench/search_bench.py --entries 20000 --build skip

The corpus (../shared/corpus/embedded-ai-report) is parsed once and stored again and
again with every issue date shifted back by the corpus' span, like an archive a
century deep. The archive rows are written once per database and reused by later
runs (same entry count). The index is then built and timed: by `rebuild_index`, or
(`--build hook`) issue by issue in separate transactions as ingestion does. Each query
of QUERIES runs `search()` end to end (the rank tiers it needs, a small tier's texts for
scoring, the page's rows and the count, snippets) `--rounds` times. Precision is measured
by bench/search_precision.py.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from briefings.model import Issue, Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.db import create_engine, session_factory, upgrade_database
from storage.issues import save_issue
from storage.models import EntryRow, IssueRow
from storage.search import index_issue, rebuild_index, search
from storage.search.models import SearchDocRow

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "embedded-ai-report"
SERIES = Series("embedded-ai", "嵌入式AI简报")
SQLITE_PATH = Path("/tmp/briefbot-search-bench.sqlite3")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "briefbot_search_bench"

# What readers type: 1-4 character Chinese words (incl. the broadest, 芯片 and 模型),
# product names, mixed queries, phrases and filters.
QUERIES = [
    "芯", "端", "芯片", "模型", "量化", "剪枝", "骁龙", "华为", "蒸馏", "移动端", "神经网络",
    "目标检测", "int8", "TensorFlow Lite", "YOLO", "MobileNet", "RISC-V", "TVM", "ncnn",
    "NPU", "BERT", "骁龙855", "手机 推理", "华为 芯片", "MNN 推理", '"模型压缩"',
    "section:papers 量化", "topic:chips 华为", "量化 year:2020", "date:2020-01..2020-06 剪枝",
]  # fmt: skip


def parse_corpus() -> list[Issue]:
    taxonomy = Taxonomy.default()
    files = sorted(CORPUS.glob("*.md"))
    if not files:
        sys.exit(f"corpus not found at {CORPUS}")
    return [
        parse_issue(decode_briefing(f.read_bytes(), str(f)), str(f), SERIES, taxonomy)
        for f in files
    ]


def replicas(issues: list[Issue], copies: int) -> list[Issue]:
    """`copies` copies of the corpus, each dated one corpus span further back."""
    span = (max(i.key for i in issues) - min(i.key for i in issues)) + timedelta(days=14)
    return [
        replace(i, key=i.key - span * k, content_hash=f"{i.content_hash}-{k}")
        for k in range(copies)
        for i in issues
    ]


def ensure_pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


async def populate(url: str, issues: list[Issue]) -> int:
    """Store the archive rows unless the database already holds exactly them."""
    engine = create_engine(url)
    factory = session_factory(engine)
    expected = sum(i.entry_count for i in issues)
    try:
        await upgrade_database(engine)
        async with factory() as session:
            stored = await session.scalar(select(func.count()).select_from(EntryRow))
        if stored == expected:
            return expected
        async with factory() as session, session.begin():
            await session.execute(IssueRow.__table__.delete())
        now = datetime.now(UTC)
        for start in range(0, len(issues), 500):
            async with factory() as session, session.begin():
                for issue in issues[start : start + 500]:
                    await save_issue(session, issue, now)
        return expected
    finally:
        await engine.dispose()


async def build(factory: async_sessionmaker[AsyncSession], how: str) -> float:
    """Seconds to build the index: one `rebuild_index`, or the on_saved hook per issue."""
    started = time.perf_counter()
    if how == "rebuild":
        async with factory() as session, session.begin():
            await rebuild_index(session)
    elif how == "hook":  # the archive as ingestion leaves it: one small write per issue
        async with factory() as session, session.begin():
            await session.execute(delete(SearchDocRow))
            if session.get_bind().dialect.name == "sqlite":  # purge the deletion markers
                await session.execute(
                    text("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
                )
            issue_ids = list(await session.scalars(select(IssueRow.id).order_by(IssueRow.key)))
        started = time.perf_counter()
        for issue_id in issue_ids:
            async with factory() as session, session.begin():
                await index_issue(session, issue_id)
    else:
        return math.nan
    return time.perf_counter() - started


async def measure(url: str, rounds: int, how: str) -> dict[str, object]:
    engine = create_engine(url)
    factory = session_factory(engine)
    try:
        seconds = await build(factory, how)
        async with factory() as session:
            docs = await session.scalar(select(func.count()).select_from(SearchDocRow))
        if engine.dialect.name == "postgresql":  # what autovacuum would do soon after
            with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DATABASE) as conn:
                conn.autocommit = True
                conn.execute("VACUUM ANALYZE search_docs")
        hook = await _hook_seconds(factory)
        per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
        async with factory() as session:
            for query in QUERIES:  # warm-up, and a check that every query finds something
                page = await search(session, query, series_slug=SERIES.slug)
                if not page.hits:
                    raise SystemExit(f"no hits for {query!r}")
            for _ in range(rounds):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    await search(session, query, series_slug=SERIES.slug)
                    per_query[query].append(time.perf_counter() - t0)
                    await session.rollback()  # no snapshot kept open between queries
        return {"docs": docs, "build": seconds, "how": how, "hook": hook, "per_query": per_query}
    finally:
        await engine.dispose()


async def _hook_seconds(factory: object, samples: int = 20) -> float:
    """Mean time of the on_saved hook (re-indexing one issue), rolled back."""
    async with factory() as session:  # type: ignore[operator]
        ids = list(await session.scalars(select(IssueRow.id).limit(samples)))
    times = []
    for issue_id in ids:
        async with factory() as session:  # type: ignore[operator]
            t0 = time.perf_counter()
            await index_issue(session, issue_id)
            times.append(time.perf_counter() - t0)
            await session.rollback()
    return statistics.mean(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def report(name: str, entries: int, result: dict[str, object]) -> None:
    per_query: dict[str, list[float]] = result["per_query"]  # type: ignore[assignment]
    every = [t for times in per_query.values() for t in times]
    print(f"\n## {name}: {entries} entries, {result['docs']} documents")
    print(f"index build ({result['how']}): {result['build']:.1f} s")
    print(f"re-index one issue (on_saved hook): {result['hook'] * 1000:.1f} ms")
    print(
        f"search, {len(every)} queries: p50 {percentile(every, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(every, 0.99) * 1000:.1f} ms, max {max(every) * 1000:.1f} ms"
    )
    print("| query | p50 ms | max ms |\n|---|---:|---:|")
    for query, times in per_query.items():
        print(f"| `{query}` | {statistics.median(times) * 1000:.1f} | {max(times) * 1000:.1f} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--build",
        choices=["rebuild", "hook", "skip"],
        default="rebuild",
        help="rebuild_index (default), index_issue per issue as ingestion does, or reuse",
    )
    args = parser.parse_args()
    corpus = parse_corpus()
    copies = max(1, round(args.entries / sum(i.entry_count for i in corpus)))
    issues = replicas(corpus, copies)
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append(("SQLite", f"sqlite+aiosqlite:///{SQLITE_PATH}"))
    if args.db in ("postgres", "both"):
        targets.append(("PostgreSQL", ensure_pg_database(PG_DATABASE)))
    for name, url in targets:
        entries = await populate(url, issues)
        report(name, entries, await measure(url, args.rounds, args.build))


if __name__ == "__main__":
    asyncio.run(main())
