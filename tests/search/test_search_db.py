"""search / index_issue / rebuild_index on small synthetic issues, SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from briefings.marks import MARK_START
from briefings.model import Entry, Issue, Section, Series
from storage.issues import save_issue
from storage.models import IssueRow, SeriesRow
from storage.search import (
    QueryError,
    SearchPage,
    index_issue,
    optimize_index,
    rebuild_index,
    search,
)
from storage.search import api as search_api
from storage.search.models import SearchDocRow

Sessions = async_sessionmaker[AsyncSession]
SERIES = Series("embedded-ai", "嵌入式AI简报")
OTHER = Series("other", "别的简报")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def entry(position: int, title: str, summary: str = "", **fields: object) -> Entry:
    return Entry(position=position, title=title, summary=summary, **fields)  # type: ignore[arg-type]


def issue(
    key: date, *sections: Section, series: Series = SERIES, intro: str = "", title: str = ""
) -> Issue:
    return Issue(
        series=series,
        key=key,
        title=title or f"嵌入式AI简报 ({key})",
        intro=intro,
        sections=sections,
        content_hash=hashlib.sha256(f"{sections!r}{intro}".encode()).hexdigest(),
    )


def news(*entries: Entry) -> Section:
    return Section("news", "业界新闻", 0, entries)


def papers(*entries: Entry) -> Section:
    return Section("papers", "论文", 1, entries)


async def store(sessions: Sessions, *issues: Issue) -> None:
    async with sessions() as session, session.begin():
        for item in issues:
            await save_issue(session, item, NOW, on_saved=index_issue)


async def find(sessions: Sessions, query: str, **kwargs: object) -> SearchPage:
    async with sessions() as session:
        return await search(session, query, series_slug=SERIES.slug, **kwargs)  # type: ignore[arg-type]


def on_postgres(sessions: Sessions) -> bool:
    return sessions.kw["bind"].dialect.name == "postgresql"


def titles(page: SearchPage) -> list[str]:
    return [hit.title for hit in page.hits]


async def test_hits_carry_issue_section_title_source_url_and_snippet(
    session_factory: Sessions,
) -> None:
    await store(
        session_factory,
        issue(
            date(2020, 3, 2),
            news(
                entry(
                    0,
                    "华为发布新芯片",
                    "麒麟芯片支持 INT8 量化。",
                    source="新智元",
                    url="https://a/1",
                )
            ),
        ),
    )
    page = await find(session_factory, "int8")
    assert page.total == 1 and not page.has_more and page.page_size == 5
    hit = page.hits[0]
    assert (hit.issue_key, hit.section_key, hit.section_heading) == (
        date(2020, 3, 2),
        "news",
        "业界新闻",
    )
    assert (hit.title, hit.source, hit.url) == ("华为发布新芯片", "新智元", "https://a/1")
    assert hit.snippet == f"麒麟芯片支持 {MARK_START}INT8\x03 量化。"


async def test_reingesting_an_issue_replaces_its_documents(session_factory: Sessions) -> None:
    first = issue(date(2020, 3, 2), news(entry(0, "旧标题：剪枝", "旧摘要")), intro="导读：剪枝")
    await store(session_factory, first)
    assert (await find(session_factory, "剪枝")).total == 2  # the entry and the issue's intro
    changed = issue(date(2020, 3, 2), news(entry(0, "新标题：量化", "新摘要")), intro="导读：量化")
    await store(session_factory, changed)
    assert (await find(session_factory, "剪枝")).total == 0
    page = await find(session_factory, "量化")
    assert sorted(titles(page)) == sorted(["新标题：量化", "嵌入式AI简报 (2020-03-02)"])
    assert {h.section_key for h in page.hits} == {"news", "intro"}
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(SearchDocRow)) == 2


async def test_a_failed_save_leaves_the_old_index(session_factory: Sessions) -> None:
    await store(session_factory, issue(date(2020, 3, 2), news(entry(0, "剪枝"))))
    with pytest.raises(RuntimeError):
        async with session_factory() as session, session.begin():
            await save_issue(
                session, issue(date(2020, 3, 2), news(entry(0, "量化"))), NOW, on_saved=index_issue
            )
            raise RuntimeError("crash after the hook")
    assert titles(await find(session_factory, "剪枝")) == ["剪枝"]
    assert (await find(session_factory, "量化")).total == 0


async def test_deleting_issues_removes_their_documents(session_factory: Sessions) -> None:
    await store(
        session_factory, issue(date(2020, 3, 2), news(entry(0, "剪枝"), entry(1, "剪枝二")))
    )
    async with session_factory() as session, session.begin():
        await session.execute(delete(IssueRow))
    assert (await find(session_factory, "剪枝")).total == 0
    async with session_factory() as session:  # rebuilding finds nothing stale either
        async with session.begin():
            assert await rebuild_index(session) == 0
        assert (await search(session, "剪枝", series_slug=SERIES.slug)).total == 0


async def test_title_matches_rank_first_then_newer_issues(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2019, 1, 1), news(entry(0, "模型剪枝综述", "无关"), entry(1, "其它甲", "谈到剪枝"))
        ),
        issue(
            date(2020, 1, 1), news(entry(0, "其它乙", "谈到剪枝"), entry(1, "模型剪枝综述", "无关"))
        ),
    )
    page = await find(session_factory, "剪枝")
    assert [(h.issue_key.year, h.title) for h in page.hits] == [
        (2020, "模型剪枝综述"),  # same score: the newer issue first
        (2019, "模型剪枝综述"),
        (2020, "其它乙"),
        (2019, "其它甲"),
    ]


async def test_all_words_must_match_and_quotes_keep_order(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2020, 1, 1),
            news(
                entry(0, "手机端推理加速"),
                entry(1, "手机拍照"),
                entry(2, "Lite TensorFlow 对比"),
                entry(3, "TensorFlow Lite 发布"),
            ),
        ),
    )
    assert titles(await find(session_factory, "手机 推理")) == ["手机端推理加速"]
    assert titles(await find(session_factory, '"TensorFlow Lite"')) == ["TensorFlow Lite 发布"]
    assert len((await find(session_factory, "tensorflow LITE")).hits) == 2


async def test_filters_by_section_topic_and_dates(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2019, 6, 1),
            news(entry(0, "量化新闻 2019", topics=("quantization",))),
            papers(entry(0, "量化论文 2019", topics=("quantization", "chips"))),
        ),
        issue(date(2020, 3, 2), papers(entry(0, "量化论文 2020", topics=("chips",)))),
    )

    async def found(query: str) -> list[str]:
        return sorted(titles(await find(session_factory, query)))

    assert await found("量化 section:papers") == ["量化论文 2019", "量化论文 2020"]
    assert await found("量化 section:论文") == ["量化论文 2019", "量化论文 2020"]
    assert await found("量化 section:papers section:news year:2019") == [
        "量化新闻 2019",
        "量化论文 2019",
    ]
    assert await found("量化 topic:chips") == ["量化论文 2019", "量化论文 2020"]
    assert await found("量化 topic:芯片 topic:量化 section:news") == ["量化新闻 2019"]
    assert await found("量化 year:2020") == ["量化论文 2020"]
    assert await found("量化 date:2019-06..2019-06") == ["量化新闻 2019", "量化论文 2019"]
    assert await found("量化 date:2019-06-02..") == ["量化论文 2020"]
    assert await found("topic:chips") == ["量化论文 2019", "量化论文 2020"]
    assert await found("year:2019") == [
        "嵌入式AI简报 (2019-06-01)",
        "量化新闻 2019",
        "量化论文 2019",
    ]
    assert await found("section:nothing 量化") == []


async def test_other_series_are_not_searched(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(date(2020, 1, 1), news(entry(0, "剪枝 A"))),
        issue(date(2020, 1, 1), news(entry(0, "剪枝 B")), series=OTHER),
    )
    assert titles(await find(session_factory, "剪枝")) == ["剪枝 A"]
    async with session_factory() as session:
        page = await search(session, "剪枝", series_slug="missing")
    assert page.hits == () and page.total == 0


@pytest.mark.parametrize("query", ["剪枝", "网络剪枝"])  # a word, or a phrase of three tokens
@pytest.mark.parametrize("score_within", [200, 5])  # the tier scored, or read newest first
async def test_pages_cover_every_match_once_in_a_stable_order(
    session_factory: Sessions, monkeypatch: pytest.MonkeyPatch, query: str, score_within: int
) -> None:
    monkeypatch.setattr(search_api, "SCORE_WITHIN", score_within)
    rng = random.Random(7)
    issues = [
        issue(
            date(2020, 1, day),
            news(
                *(
                    entry(i, f"第{day}期 条目{i} 网络" + "剪枝" * rng.randint(1, 3))
                    for i in range(4)
                )
            ),
        )
        for day in range(1, 8)
    ]
    await store(session_factory, *issues)
    # PostgreSQL does not count a tier bigger than SCORE_WITHIN (it would read every match)
    # until a page reaches the end
    uncounted = score_within == 5 and on_postgres(session_factory)
    seen: list[str] = []
    for page_no in range(1, 11):
        page = await find(session_factory, query, page=page_no, per_page=3)
        assert page.total == (None if uncounted and page_no * 3 + 1 <= 28 else 28)
        assert page.has_more == (page_no * 3 < 28)
        seen += titles(page)
    assert len(seen) == len(set(seen)) == 28
    assert seen == titles(await find(session_factory, query, per_page=30))
    if score_within == 5:  # one tier (the word in every title) of 28: newest first
        assert seen == sorted(seen, key=lambda t: (-int(t[1]), int(t.split("条目")[1][0])))
    elif query == "剪枝":  # relevance: the word three times in a title before once
        assert seen[0].count("剪枝") == 3 and seen[-1].count("剪枝") == 1
    else:  # the phrase once in each title: the shorter title is more about it
        assert seen[0].count("剪枝") == 1 and seen[-1].count("剪枝") == 3


async def test_rebuild_matches_incremental_indexing(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(date(2020, 1, 1), news(entry(0, "剪枝 A", "量化")), intro="导读剪枝"),
        issue(date(2020, 2, 1), papers(entry(0, "量化 B", "剪枝"))),
    )
    before = await find(session_factory, "剪枝")
    async with session_factory() as session, session.begin():
        assert await rebuild_index(session) == 4
    after = await find(session_factory, "剪枝")
    assert before == after and before.total == 3
    async with session_factory() as session, session.begin():
        await optimize_index(session)
    assert await find(session_factory, "剪枝") == before


HOSTILE = [
    "",
    " ",
    "x" * 1000,
    "量" * 1000,
    "!!!???",
    '"',
    '"unterminated phrase',
    "NEAR(剪枝 量化, 2)",
    "剪枝 OR 量化 NOT 芯片",
    "剪枝*",
    "^剪枝",
    "{title}: 剪枝",
    "title:剪枝",
    "-剪枝",
    "(剪枝",
    "'; DROP TABLE issues; --",
    "1' OR '1'='1",
    "\\",
    "剪枝 & | ! <-> :*",
    "🙂🚀",
    "剪枝🙂",
    "\x00剪枝",
    "section:",
    "year:abc",
    "date:2020-99",
    "a " * 20,
    "ｉｎｔ８",
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_give_a_message_or_a_page(
    session_factory: Sessions, query: str
) -> None:
    await store(session_factory, issue(date(2020, 1, 1), news(entry(0, "剪枝 int8", "量化"))))
    async with session_factory() as session:
        try:
            page = await search(session, query, series_slug=SERIES.slug)
        except QueryError as exc:
            assert str(exc)
        else:
            assert page.total == len(page.hits) <= 1
        # the session is still usable (no aborted transaction on PostgreSQL)
        assert (await search(session, "剪枝", series_slug=SERIES.slug)).total == 1


async def test_random_queries_never_raise_database_errors(session_factory: Sessions) -> None:
    await store(
        session_factory, issue(date(2020, 1, 1), news(entry(0, "剪枝 int8", "量化 RISC-V")))
    )
    alphabet = [*"剪枝量化芯ab8 \"'*()-:^{}<>&|!\\_.,，：；", "NEAR", "AND", "OR", "NOT", "🙂"]
    rng = random.Random(1)
    async with session_factory() as session:
        for _ in range(150):
            query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
            with contextlib.suppress(QueryError):
                await search(session, query, series_slug=SERIES.slug)


async def test_bad_paging_arguments_get_a_message(session_factory: Sessions) -> None:
    with pytest.raises(QueryError):
        await find(session_factory, "剪枝", page=0)
    with pytest.raises(QueryError):
        await find(session_factory, "剪枝", per_page=0)
    with pytest.raises(QueryError):
        await find(session_factory, "剪枝", per_page=1000)


async def test_index_issue_of_a_missing_issue_is_harmless(session_factory: Sessions) -> None:
    async with session_factory() as session, session.begin():
        await index_issue(session, 12345)
        assert await session.scalar(select(func.count()).select_from(SeriesRow)) == 0
