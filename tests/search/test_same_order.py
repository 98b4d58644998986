"""SQLite and PostgreSQL rank the real corpus identically: the rank tiers are the same
index facts on both, and small tiers are scored in Python from the same rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storage.db import create_engine, session_factory
from storage.search import search
from tests.search.conftest import SERIES, _load_corpus

pytestmark = [pytest.mark.corpus, pytest.mark.postgres]

SCHEMA = "search_same_order"
QUERIES = [
    "量化", "剪枝", "处理", "加速", "芯片", "模型", "芯", "华为", "移动端", "int8", "YOLO",
    "TensorFlow Lite", '"模型压缩"', "GPU 推理", "手机 推理", "端侧推理", "量化 year:2020",
    "section:papers 剪枝",
]  # fmt: skip


async def _pages(url: str) -> dict[str, list[list[tuple[str, str, str | None]]]]:
    engine = create_engine(url)
    try:
        found: dict[str, list[list[tuple[str, str, str | None]]]] = {}
        async with session_factory(engine)() as session:
            for query in QUERIES:
                pages = []
                for number in (1, 2, 3):
                    page = await search(session, query, series_slug=SERIES.slug, page=number)
                    pages.append([(str(h.issue_key), h.section_key, h.title) for h in page.hits])
                found[query] = pages
        return found
    finally:
        await engine.dispose()


def test_both_databases_give_the_same_pages(
    tmp_path: Path, corpus_dir: Path, postgres_database: str
) -> None:
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    pg_url = (
        make_url(postgres_database)
        .set(query={"options": f"-csearch_path={SCHEMA}"})
        .render_as_string(hide_password=False)
    )
    for url in (sqlite_url, pg_url):
        asyncio.run(_load_corpus(url, corpus_dir))
    on_sqlite, on_postgres = asyncio.run(_pages(sqlite_url)), asyncio.run(_pages(pg_url))
    for query in QUERIES:
        assert on_sqlite[query][0], f"no hits for {query}"
        assert on_sqlite[query] == on_postgres[query], query
