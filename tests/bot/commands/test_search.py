"""/search: hits with highlights, paging through a short hash, usage and no-result texts."""

from __future__ import annotations

import re

from bot.commands import CALLBACK_DATA_MAX_BYTES, Chat, Core
from bot.commands.search import PER_PAGE, STATE_PREFIX, query_hash
from storage.state import get_value
from tests.bot.commands.conftest import Client, buttons, raw_of, text_of

_TOTAL = re.compile(r"共 (\d+) 条结果 · 第 (\d+)/(\d+) 页")
ALL_SECTIONS = " ".join(f"section:{k}" for k in ("news", "papers", "projects", "blogs", "apps"))


def header(text: str) -> tuple[int, int, int]:
    """(total, page, pages) from a Chinese result page."""
    match = _TOTAL.search(text)
    assert match, text[:200]
    total, page, pages = (int(g) for g in match.groups())
    return total, page, pages


def _titles(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\d+\. ", line)]


async def test_first_page_has_five_hits_with_details(client: Client) -> None:
    replies = await client.send("/search 量化")
    text = text_of(replies)
    total, page, pages = header(text)
    assert text.startswith("搜索“量化”")
    assert total > PER_PAGE and page == 1 and pages == -(-total // PER_PAGE)
    assert [t.split(".")[0] for t in _titles(text)] == ["1", "2", "3", "4", "5"]
    assert len(re.findall(r"^2026-11-(?:02|16) · \S+", text, re.MULTILINE)) == PER_PAGE
    assert "<b>量化</b>" in raw_of(replies)  # the matched words are highlighted
    assert '<a href="https://example.com/' in raw_of(replies)  # titles link to the source
    assert "还有更多结果" in text
    (more,) = buttons(replies)
    assert more.text == "下一页 »"
    assert more.data == f"q:{query_hash('量化')}:2"


async def test_paging_never_repeats_and_ends(client: Client) -> None:
    replies = await client.send("/search 量化")
    total, _, pages = header(text_of(replies))
    seen: list[str] = []
    for number in range(1, pages + 1):
        text = text_of(replies)
        assert header(text) == (total, number, pages)
        seen += _titles(text)
        nexts = [b for b in buttons(replies) if b.data.startswith("q:")]
        if number == pages:
            assert nexts == [] and "还有更多结果" not in text
        else:
            replies = await client.press(nexts[0])
    assert len(seen) == total
    assert len({line.split(". ", 1)[1] for line in seen}) == total  # no hit twice
    assert [int(line.split(".")[0]) for line in seen] == list(range(1, total + 1))


async def test_long_query_is_stored_under_a_short_hash(client: Client, core: Core) -> None:
    query = f"量化 {ALL_SECTIONS}"
    assert len(query.encode()) > CALLBACK_DATA_MAX_BYTES
    replies = await client.send(f"/search {query}")
    (more,) = buttons(replies)
    assert len(more.data.encode()) <= CALLBACK_DATA_MAX_BYTES
    async with core.deps.sessions() as session:
        stored = await get_value(session, STATE_PREFIX + query_hash(query))
    assert stored == {"query": query}
    second = text_of(await client.press(more))
    assert f"搜索“{query}”" in second and header(second)[1] == 2


async def test_empty_query_explains_usage(client: Client) -> None:
    text = text_of(await client.send("/search"))
    assert "用法：/search 关键词" in text and "/search 量化" in text and "section:论文" in text


async def test_no_result_says_so_and_suggests_broader_words(client: Client) -> None:
    text = text_of(await client.send("/search 量子计算机"))
    assert "没有找到与“量子计算机”相关的内容" in text and "更宽泛" in text
    assert buttons(client.last) == []


async def test_unsearchable_query_is_explained(client: Client) -> None:
    text = text_of(await client.send("/search !!!"))
    assert text.startswith("无法搜索：") and "汉字" in text


BAD_QUERIES = {  # one per QueryError code that a user can reach
    "!!!": ("没有可搜索的词", "no searchable words"),
    "x" * 1001: ("太长", "too long"),
    "topic:": ("topic: 后面需要一个值", "topic: needs a value"),
    " ".join(f"w{i}" for i in range(40)): ("词太多了", "Too many words"),
    "量化 year:20x": ("看不懂 year:20x", "Could not read year:20x"),
    "量化 date:..": ("至少需要一端", "needs at least one end"),
    "量化 date:2020-06..2020-01": ("结束早于开始", "ends before it starts"),
}


async def test_query_errors_speak_the_users_language(core: Core) -> None:
    chinese, english = Client(core), Client(core, language_code="en")
    for query, (zh, en) in BAD_QUERIES.items():
        text = text_of(await chinese.send(f"/search {query}"))
        assert text.startswith("无法搜索：") and zh in text, (query, text)
        assert not re.search(r"[A-Za-z]{4,} [a-z]{3,}", text), text  # no English sentence
        text = text_of(await english.send(f"/search {query}"))
        assert text.startswith("Cannot search: ") and en in text, (query, text)


async def test_filters_and_english_labels(core: Core) -> None:
    english = Client(core, language_code="en")
    text = text_of(await english.send("/search 量化 section:papers"))
    assert "Search “量化 section:papers”" in text
    assert "CalibFree-Q" in text  # a paper about quantization
    assert "掘金" not in text and "Tengine" not in text  # a blog post and a project, filtered out
    assert " · Papers" in text and " · 论文" not in text  # section names in English


async def test_english_hits_on_an_issue_intro_say_overview(core: Core) -> None:
    text = text_of(await Client(core, language_code="en").send("/search 寒武纪"))  # quick news
    assert " · Overview" in text and "导读 ·" not in text.split("\n", 1)[1]


async def test_expired_or_forged_search_buttons(client: Client) -> None:
    assert "按钮已失效" in text_of(await client.press("q:000000000000:2"))
    assert "按钮已失效" in text_of(await client.press("q:abc"))
    await client.send("/search 量化")
    text = text_of(await client.press(f"q:{query_hash('量化')}:99"))
    assert "没有更多结果了" in text


async def test_wechat_search_by_chinese_alias(core: Core) -> None:
    wechat = Client(core, chat=Chat("wechat", "openid-1", "user"))
    replies = await wechat.send("搜索 剪枝")
    text = text_of(replies)
    assert "搜索“剪枝”" in text and "tinyprune" in text
    assert buttons(replies) == []  # WeChat has no buttons; the text says more exist
