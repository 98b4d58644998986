"""The web queries and every page kind on both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from bot.config import Settings
from bot.runtime import open_runtime
from bot.web.operator import operator_routes
from bot.web.pages import Site
from bot.web.server import create_app
from storage.issues import get_issue
from storage.web_queries import (
    archive_version,
    deliveries_per_issue,
    issue_lines,
    last_publication_sends,
    neighbours,
    section_entries,
    subscriber_spans,
    topic_entries,
)
from tests.web.conftest import fill
from tests.web.test_operator import TOKEN, basic, seed_deliveries

SLUG = "embedded-ai"


async def test_queries_and_pages_on_both_databases(db_url: str) -> None:
    settings = Settings(storage={"url": db_url}, web={"admin_token": TOKEN})
    async with open_runtime(settings) as runtime:
        await fill(runtime)
        await seed_deliveries(runtime)
        async with runtime.sessions() as session:
            version = await archive_version(session, SLUG)
            lines = await issue_lines(session, SLUG)
            before, after = await neighbours(session, SLUG, date(2026, 11, 2))
            papers = await section_entries(session, SLUG, "papers", limit=3, offset=1)
            all_papers = await section_entries(session, SLUG, "papers", limit=100)
            quant = await topic_entries(session, SLUG, "quantization", limit=100)
            spans = await subscriber_spans(session)
            per_issue = await deliveries_per_issue(session)
            sent_issue, sent_times = await last_publication_sends(session)
            tagged = [
                e.title
                for line in await issue_lines(session, SLUG)
                if (issue := await get_issue(session, SLUG, line.key)) is not None
                for s in issue.sections
                for e in s.entries
                if "quantization" in e.topics
            ]
        assert version.issues == 3 and version.updated_at is not None
        assert version.updated_at.tzinfo is not None
        assert version.updated_at <= datetime.now(UTC)
        assert [line.key.isoformat() for line in lines] == [
            "2026-11-16",
            "2026-11-02",
            "2026-10-05",
        ]
        assert lines[1].entries == 12
        assert (before, after) == (date(2026, 10, 5), date(2026, 11, 16))
        assert papers == all_papers[1:4]
        keys = [e.issue_key for e in all_papers]
        assert keys == sorted(keys, reverse=True)
        assert all(e.section_key == "papers" for e in all_papers)
        assert len(tagged) >= 5 and sorted(e.title for e in quant) == sorted(tagged)
        assert sorted(s.platform for s in spans) == ["telegram"] * 3 + ["wecom"]
        assert [(c.key, c.sent, c.failed, c.pending) for c in per_issue] == [
            (date(2026, 11, 2), 2, 1, 1)
        ]
        assert sent_issue == date(2026, 11, 2) and len(sent_times) == 2

        site = Site(runtime.sessions, runtime.series, runtime.taxonomy, settings.web)
        routes = operator_routes(runtime.sessions, settings.web) + site.routes()
        transport = httpx.ASGITransport(app=create_app(extra_routes=routes))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path in (
                "/",
                f"/{SLUG}/2026-11-02",
                f"/{SLUG}/section/papers",
                f"/{SLUG}/topic/quantization",
                "/search?q=量化",
                f"/{SLUG}/feed.atom",
                f"/{SLUG}/section/papers/feed.rss",
            ):
                response = await client.get(path)
                assert response.status_code == 200, (path, response.text[:300])
            search = await client.get("/search?q=量化")
            assert "<mark>量化</mark>" in search.text
            page = await client.get("/operator", headers=basic("admin", TOKEN))
            assert page.status_code == 200
            chart = await client.get("/operator/chart/deliveries.png", headers=basic("a", TOKEN))
            assert chart.content[:4] == b"\x89PNG"
