"""Atom and RSS feeds, validated by feedparser: ids, dates, content, autodiscovery, and
the conditional GET (ETag / Last-Modified → 304) on the samples and the real corpus."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import httpx
import pytest

from bot.ingest import ingest_documents
from bot.runtime import Runtime, open_runtime
from bot.web.pages import Site
from bot.web.server import create_app
from tests.web.conftest import web_settings

FEEDS = (
    "/embedded-ai/feed.atom",
    "/embedded-ai/feed.rss",
    "/embedded-ai/section/papers/feed.atom",
    "/embedded-ai/section/papers/feed.rss",
    "/embedded-ai/topic/quantization/feed.atom",
    "/embedded-ai/topic/quantization/feed.rss",
)


def parse(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text[:300]
    result = feedparser.parse(response.content)
    assert not result.bozo, result.get("bozo_exception")
    return result


@pytest.mark.parametrize("path", FEEDS)
async def test_feeds_are_valid_with_ids_dates_and_content(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    kind = "atom" if path.endswith(".atom") else "rss"
    assert response.headers["content-type"].startswith(f"application/{kind}+xml")
    feed = parse(response)
    assert feed.version == ("atom10" if kind == "atom" else "rss20")
    assert feed.feed.title and feed.feed.link.startswith("http://testserver/embedded-ai")
    assert feed.entries
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    for entry in feed.entries:
        assert entry.title and entry.link.startswith("http")
        assert entry.published_parsed is not None
        body = entry.content[0].value if kind == "atom" else entry.description
        assert body.strip()
        assert "<script" not in body  # the hostile issue's script is text inside the HTML
    if kind == "atom":
        assert all(e.updated_parsed for e in feed.entries)


async def test_series_feed_holds_issues_newest_first_with_their_sections(
    client: httpx.AsyncClient,
) -> None:
    feed = parse(await client.get("/embedded-ai/feed.atom"))
    links = [e.link for e in feed.entries]
    assert links == [
        "http://testserver/embedded-ai/2026-11-16",
        "http://testserver/embedded-ai/2026-11-02",
        "http://testserver/embedded-ai/2026-10-05",
    ]
    first = feed.entries[1].content[0].value
    assert "<h2>业界新闻</h2>" in first and "骁龙新旗舰平台发布" in first
    hostile = feed.entries[2]
    assert "<script>alert('t')</script>" in hostile.title  # the text, as the title says
    assert "&lt;script&gt;" in hostile.content[0].value
    en = parse(await client.get("/embedded-ai/feed.atom?lang=en"))
    assert "<h2>Industry news</h2>" in en.entries[1].content[0].value
    assert {e.id for e in en.entries} == {e.id for e in feed.entries}  # ids do not move


async def test_ids_do_not_depend_on_the_host(client: httpx.AsyncClient) -> None:
    here = parse(await client.get("/embedded-ai/feed.atom"))
    there = parse(await client.get("http://other.example/embedded-ai/feed.atom"))
    assert [e.id for e in here.entries] == [e.id for e in there.entries]
    assert there.entries[0].link == "http://other.example/embedded-ai/2026-11-16"


async def test_public_url_makes_links_absolute_there(tmp_path: Path) -> None:
    settings = web_settings(tmp_path, public_url="https://brief.example.org/")
    async with open_runtime(settings) as runtime:
        from tests.web.conftest import fill

        await fill(runtime)
        async with site_client(runtime) as client:
            feed = parse(await client.get("/embedded-ai/feed.rss"))
    assert feed.feed.link == "https://brief.example.org/embedded-ai"
    assert feed.entries[0].link == "https://brief.example.org/embedded-ai/2026-11-16"


@pytest.mark.parametrize("path", ["/embedded-ai/feed.atom", "/embedded-ai/topic/chips/feed.rss"])
async def test_a_repeated_conditional_request_is_answered_304(
    client: httpx.AsyncClient, path: str
) -> None:
    first = await client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.status_code == 200 and etag.startswith('"')
    again = await client.get(path, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    by_date = await client.get(path, headers={"if-modified-since": modified})
    assert by_date.status_code == 304
    stale = await client.get(path, headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200
    older = await client.get(path, headers={"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200
    en = await client.get(path + "?lang=en", headers={"if-none-match": etag})
    assert en.status_code == 200  # another language is another representation


async def test_a_new_issue_changes_the_validators(runtime: Runtime) -> None:
    async with site_client(runtime) as client:
        first = await client.get("/embedded-ai/feed.atom")
        new = first.text.count("<entry>")
        text = "# 嵌入式AI简报 (2026-12-01) 新一期\n\n## 论文\n\n- [新论文](https://x.org/p)\n摘要：量化。\n"
        await ingest_documents(
            runtime, [("2026-12-01.md", text.encode())], now=datetime(2026, 12, 2, tzinfo=UTC)
        )
        again = await client.get(
            "/embedded-ai/feed.atom", headers={"if-none-match": first.headers["etag"]}
        )
    assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
    assert again.text.count("<entry>") == new + 1


async def test_unknown_feeds_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/embedded-ai/feed.json",
        "/nope/feed.atom",
        "/embedded-ai/topic/none/feed.atom",
        "/embedded-ai/section/papers/feed.xml",
    ):
        assert (await client.get(path)).status_code == 404, path


def site_client(runtime: Runtime) -> httpx.AsyncClient:
    site = Site(runtime.sessions, runtime.series, runtime.taxonomy, runtime.settings.web)
    transport = httpx.ASGITransport(app=create_app(extra_routes=site.routes()))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def corpus_runtime(corpus_dir: Path, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The real corpus ingested into a temporary SQLite archive (read, never copied)."""
    async with open_runtime(web_settings(tmp_path)) as runtime:
        docs = [(p.name, p.read_bytes()) for p in sorted(corpus_dir.glob("*.md"))]
        report = await ingest_documents(runtime, docs)  # type: ignore[arg-type]
        assert report.added > 20, report
        yield runtime


@pytest.mark.corpus
async def test_feeds_validate_on_the_real_corpus(corpus_runtime: Runtime) -> None:
    async with site_client(corpus_runtime) as client:
        series = parse(await client.get("/embedded-ai/feed.atom"))
        assert len(series.entries) == 20
        dates = [e.published_parsed for e in series.entries]
        assert dates == sorted(dates, reverse=True)
        for kind in ("section", "topic"):
            for key in (
                [s.key for s in corpus_runtime.taxonomy.sections]
                if kind == "section"
                else [t.key for t in corpus_runtime.taxonomy.topics]
            ):
                for fmt in ("atom", "rss"):
                    feed = parse(await client.get(f"/embedded-ai/{kind}/{key}/feed.{fmt}"))
                    for entry in feed.entries:
                        assert entry.id and entry.title and entry.published_parsed
        tag = (await client.get("/embedded-ai/feed.rss")).headers["etag"]
        again = await client.get("/embedded-ai/feed.rss", headers={"if-none-match": tag})
        assert again.status_code == 304
        # every issue page of the corpus renders
        home = await client.get("/")
        keys = sorted(set(re.findall(r'href="/embedded-ai/(\d{4}-\d\d-\d\d)"', home.text)))
        assert len(keys) > 20
        pages = await asyncio.gather(*(client.get(f"/embedded-ai/{k}") for k in keys))
        assert all(p.status_code == 200 for p in pages)


async def test_published_is_the_push_time_or_the_issue_date(runtime: Runtime) -> None:
    from sqlalchemy import update

    from storage.issues import find_issue_id
    from storage.models import IssueRow
    from storage.publication import ARCHIVED_PREFIX

    pushed_at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    async with runtime.sessions() as session, session.begin():
        pushed = await find_issue_id(session, "embedded-ai", date(2026, 11, 2))
        archived = await find_issue_id(session, "embedded-ai", date(2026, 10, 5))
        await session.execute(
            update(IssueRow)
            .where(IssueRow.id == archived)
            .values(published_at=datetime(2026, 12, 1, tzinfo=UTC), published_hash=ARCHIVED_PREFIX)
        )
    async with site_client(runtime) as client:
        before = await client.get("/embedded-ai/feed.atom")
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                update(IssueRow)
                .where(IssueRow.id == pushed)
                .values(published_at=pushed_at, published_hash="h")
            )
        response = await client.get(
            "/embedded-ai/feed.atom", headers={"if-none-match": before.headers["etag"]}
        )
        assert response.status_code == 200  # a push changes the feed: a new ETag
        feed = parse(response)
    published = {e.link.rsplit("/", 1)[1]: e.published_parsed[:5] for e in feed.entries}
    assert published == {
        "2026-11-16": (2026, 11, 16, 0, 0),  # not pushed yet: its date
        "2026-11-02": (2026, 11, 2, 9, 30),  # pushed: when
        "2026-10-05": (2026, 10, 5, 0, 0),  # archived unpushed: its date, not the archiving
    }
    for entry in feed.entries:
        assert entry.updated_parsed >= entry.published_parsed
