"""Search tests run on SQLite and PostgreSQL through the shared database fixtures.

`corpus_url` is a database holding the whole real corpus, loaded once per module
and dialect through the parser and `save_issue(..., on_saved=index_issue)`. On
PostgreSQL it lives in its own schema of the session's test database, so the
per-test schema resets of `db_url` never touch it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from briefings.model import Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.db import create_engine, upgrade_database
from storage.db import session_factory as make_session_factory
from storage.issues import save_issue
from storage.search import index_issue
from tests.dbfixtures import db_url, engine, postgres_database, session_factory

__all__ = ["db_url", "engine", "postgres_database", "session_factory"]

SERIES = Series("embedded-ai", "嵌入式AI简报")
CORPUS_SCHEMA = "search_corpus"


async def _load_corpus(url: str, corpus_dir: Path) -> None:
    taxonomy = Taxonomy.default()
    eng = create_engine(url)
    try:
        await upgrade_database(eng)
        async with make_session_factory(eng)() as session, session.begin():
            for path in sorted(corpus_dir.glob("*.md")):
                text = decode_briefing(path.read_bytes(), str(path))
                issue = parse_issue(text, str(path), SERIES, taxonomy)
                await save_issue(session, issue, datetime.now(UTC), on_saved=index_issue)
    finally:
        await eng.dispose()


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def corpus_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}"
        asyncio.run(_load_corpus(url, corpus_dir))
        yield url
        return
    base = request.getfixturevalue("postgres_database")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {CORPUS_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {CORPUS_SCHEMA}")
    url = (
        make_url(base)
        .set(query={"options": f"-csearch_path={CORPUS_SCHEMA}"})
        .render_as_string(hide_password=False)
    )
    asyncio.run(_load_corpus(url, corpus_dir))
    yield url
