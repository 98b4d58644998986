"""Pure tokenisation, query parsing and snippets (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings.marks import MARK_END, MARK_START
from formatters import ConsoleRenderer, TelegramRenderer
from storage.search import SearchHit, SearchPage
from storage.search.plan import plan_terms
from storage.search.snippet import highlight, snippet, term_pattern
from storage.search.text import (
    MAX_QUERY_CHARS,
    DateRange,
    QueryError,
    index_tokens,
    parse_query,
    plain_text,
    tag_token,
    term_tokens,
)


def phrase_matches(doc_tokens: list[str], phrase: list[tuple[str, bool]]) -> bool:
    """What FTS5 / tsquery do with a phrase: adjacent tokens, the last maybe a prefix."""
    n = len(phrase)
    for i in range(len(doc_tokens) - n + 1):
        window = doc_tokens[i : i + n]
        if all(
            tok.startswith(q) if prefix else tok == q
            for tok, (q, prefix) in zip(window, phrase, strict=True)
        ):
            return True
    return False


def matches(doc: str, query: str) -> bool:
    tokens = index_tokens(doc)
    return all(phrase_matches(tokens, list(term)) for term in plan_terms(parse_query(query)))


def test_cjk_runs_become_bigrams_plus_their_last_character() -> None:
    assert index_tokens("华为芯片") == ["华为", "为芯", "芯片", "片"]
    assert index_tokens("芯") == ["芯"]
    assert index_tokens("高通骁龙855，INT8量化") == [
        "高通", "通骁", "骁龙", "龙", "855", "int8", "量化", "化",
    ]  # fmt: skip


def test_latin_is_folded_and_split_on_punctuation() -> None:
    assert index_tokens("RISC-V TensorFlow.js Ｆｕｌｌ－ｗｉｄｔｈ Café_au") == [
        "risc", "v", "tensorflow", "js", "full", "width", "cafe", "au",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "query", "expected"),
    [
        ("华为芯片大动作", "芯片", True),
        ("华为芯片大动作", "为芯", True),  # any substring, no dictionary
        ("华为芯片大动作", "华为芯片大动作", True),
        ("华为芯片大动作", "芯", True),
        ("华为造芯，定名", "芯", True),  # last character of a run
        ("华为造芯，定名", "芯片", False),
        ("华为 芯片", "华为芯片", False),  # a CJK word does not span punctuation or spaces
        ("手机端推理加速", "手机 推理", True),  # several words: all of them, anywhere
        ("手机端推理加速", "手机 剪枝", False),
        ("搭载骁龙855的手机", "骁龙855", True),
        ("搭载骁龙 855 的手机", "骁龙855", True),
        ("搭载骁龙8550的手机", "骁龙855", False),
        ("搭载骁龙855的手机", "龙855", True),
        ("支持INT8推理", "int8", True),
        ("支持int80推理", "int8", False),
        ("TensorFlow Lite 发布", "tensorflow lite", True),
        ("TensorFlow Lite 发布", '"TensorFlow Lite"', True),
        ("Lite TensorFlow 发布", '"TensorFlow Lite"', False),
        ("基于RISC-V架构", "RISC-V", True),
        ("基于RISC V架构", "risc-v", True),
        ("YOLOv3 检测", "yolo", True),  # 4+ letters: also a prefix
        ("YOLOv3 检测", '"yolo"', False),  # quoted: whole words
        ("A股市场", "A股", True),
        ("A股市场", "a股市", True),
    ],
)
def test_matching_semantics(doc: str, query: str, expected: bool) -> None:
    assert matches(doc, query) is expected


CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40), min_size=1)
MIXED = st.text(alphabet=st.sampled_from(list("华为芯片骁龙aB8 -，.")), min_size=1, max_size=30)


@given(CJK, st.data())
def test_every_chinese_substring_matches(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert matches(text, text[start:end])


@given(MIXED)
def test_a_text_always_matches_itself(text: str) -> None:
    try:
        assert matches(text, text)
    except QueryError:
        assert not index_tokens(text)


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_any_input_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert str(exc)
        return
    for term in query.terms:
        assert term.tokens
        for token in term.tokens:
            assert token.text and not set(token.text) & set("\"'\\ *():_\t\n\x00")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "!!!", "“”《》——", "🙂🚀", '"', '""', "(", "*", "-", "AND OR NOT", "\x00", "_"],
)
def test_queries_without_words_get_a_message(text: str) -> None:
    if text.strip() and any(c.isalnum() for c in text):
        parse_query(text)  # words such as AND are plain text
        return
    with pytest.raises(QueryError, match=r"\w"):
        parse_query(text)


def test_long_queries_get_a_message() -> None:
    with pytest.raises(QueryError, match="too long"):
        parse_query("量" * (MAX_QUERY_CHARS + 1))


def test_fts_and_sql_syntax_is_plain_text() -> None:
    query = parse_query('NEAR(a b) "x* OR y" -z ) \'; DROP TABLE--')
    words = [[t.text for t in term.tokens] for term in query.terms]
    assert words == [["near", "a"], ["b"], ["x", "or", "y"], ["z"], ["drop"], ["table"]]


@pytest.mark.parametrize(
    "text", ["量化、剪枝", "量化，剪枝", "量化, 剪枝", "量化；剪枝", "量化 剪枝"]
)
def test_list_marks_separate_words(text: str) -> None:
    assert [t.raw for t in parse_query(text).terms] == ["量化", "剪枝"]


def test_list_marks_inside_quotes_stay_in_the_phrase() -> None:
    (term,) = parse_query('"量化、剪枝"').terms
    assert term.exact and term.raw == "量化、剪枝"


def test_filters() -> None:
    query = parse_query("量化 section:papers topic:芯片 SECTION：论文 year:2020")
    assert [t.raw for t in query.terms] == ["量化"]
    assert query.sections == ("papers", "论文")
    assert query.topics == ("芯片",)
    assert query.dates == DateRange(date(2020, 1, 1), date(2020, 12, 31))
    assert parse_query("topic:chips").terms == ()  # filters alone list the newest entries


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2020-03-02", date(2020, 3, 2), date(2020, 3, 2)),
        ("2020-01..2020-06", date(2020, 1, 1), date(2020, 6, 30)),
        ("2019-12-17..", date(2019, 12, 17), None),
        ("..2019", None, date(2019, 12, 31)),
        ("2020/1..2020/3/5", date(2020, 1, 1), date(2020, 3, 5)),
    ],
)
def test_date_ranges(value: str, start: date | None, end: date | None) -> None:
    assert parse_query(f"date:{value}").dates == DateRange(start, end)


@pytest.mark.parametrize(
    "text", ["year:20", "year:abc", "date:2020-13", "date:2020-02-30", "date:..", "date:2021..2020"]
)
def test_bad_dates_get_a_message(text: str) -> None:
    with pytest.raises(QueryError, match=r"date|year"):
        parse_query(text)


def test_empty_filter_value_gets_a_message() -> None:
    with pytest.raises(QueryError, match="section:papers"):
        parse_query("section: 量化")


def test_term_tokens_keep_the_run_end_only_when_text_follows() -> None:
    assert [t.text for t in term_tokens("骁龙855")] == ["骁龙", "龙", "855"]
    assert [(t.text, t.prefix) for t in term_tokens("A股")] == [("a", False), ("股", True)]
    assert [(t.text, t.prefix) for t in term_tokens("量化")] == [("量化", False)]


def test_tag_tokens_are_single_filter_words() -> None:
    assert tag_token("s", "papers") == "s_papers"
    assert tag_token("t", "On-Device AI") == "t_on_device_ai"
    assert tag_token("s", "——") is None


def test_plain_text_keeps_link_labels_and_drops_urls() -> None:
    md = "见[**论文**](https://a.b/c_(d)) 与 [[代码]](http://x.y) 和 https://z.w/q <font>注</font>"
    assert plain_text(md) == "见论文 与 [代码] 和 注"


def marked(text: str) -> list[str]:
    return [part.split(MARK_END)[0] for part in text.split(MARK_START)[1:]]


def test_highlight_marks_words_the_way_the_index_matches() -> None:
    patterns = [term_pattern(q) for q in ("int8", "yolo", "骁龙855", "risc-v", "芯")]
    text = "INT8 与 int80；YOLOv3 跑在骁龙 855 上，RISC-V 芯片"
    assert marked(highlight(text, [p for p in patterns if p])) == [
        "INT8", "YOLOv3", "骁龙 855", "RISC-V", "芯",
    ]  # fmt: skip


def test_highlight_removes_stray_mark_characters() -> None:
    pattern = term_pattern("量化")
    assert pattern is not None
    assert highlight("a\x02b\x03 量化", [pattern]) == f"ab {MARK_START}量化{MARK_END}"


def test_snippet_is_a_window_around_the_match() -> None:
    pattern = term_pattern("剪枝")
    assert pattern is not None
    text = "开头" * 100 + "网络剪枝方法" + "结尾" * 100
    cut = snippet(text, [pattern], width=40)
    assert cut.startswith("…") and cut.endswith("…")
    assert marked(cut) == ["剪枝"]
    assert len(cut.replace(MARK_START, "").replace(MARK_END, "")) == 42
    assert snippet("短文本", [pattern]) == "短文本"  # no match: the start, unmarked


def test_storage_snippets_render_as_marks_through_the_formatters_protocol() -> None:
    # storage writes the marks and formatters read them (both from briefings.marks);
    # formatters take storage's SearchPage structurally, without importing storage.
    pattern = term_pattern("量化")
    assert pattern is not None
    hit = SearchHit(date(2020, 1, 6), "papers", "论文", "T", None, None, "")
    hit = replace(hit, snippet=snippet("模型 <INT8> 量化与部署", [pattern]))
    page = SearchPage("量化", (hit,), total=1, page_size=5)
    [console] = ConsoleRenderer().search_results(page)
    [telegram] = TelegramRenderer().search_results(page)
    assert "模型 <INT8> [量化]与部署" in console.text
    assert "模型 &lt;INT8&gt; <b>量化</b>与部署" in telegram.text
