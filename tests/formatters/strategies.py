"""Hypothesis strategies for hostile briefing content."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from briefings.model import Entry, Issue, Link, Section, Series
from storage.search import SearchHit, SearchPage

_SPECIAL = list("<>&\"'*_[]()#`\\!|~-+=.,:;。！？；，、 \n")
_NASTY = [
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇨🇳",
    "𝕏",
    "e\u0301",
    "\u200d",
    "\ufe0f",
    "&amp;",
    "&lt;",
    "<b>",
    "</a>",
    "<font color=red>",
    "\x02",
    "\x03",
    "\x00",
    "\t",
    "\r\n",
    "嵌入式",
    "模型压缩",
    "https://example.com/x?a=1&b=2",
]
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="续")
_piece = st.one_of(st.sampled_from(_SPECIAL), st.sampled_from(_NASTY), _chars)

text = st.lists(_piece, max_size=40).map("".join)
short = st.lists(_piece, max_size=12).map("".join)

_LONG = [
    "a" * 10_000,
    "中" * 10_000,
    "😀" * 5_000,
    "x " * 3_000,
    "**" + "长" * 6_000 + "**",
    "[" + "链" * 5_000 + "](https://example.com/long)",
]

long_url = st.integers(4_100, 6_000).map(lambda n: "https://example.com/" + "p" * n)
url = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(
        [
            "https://example.com/a?b=1&c=2",
            'http://example.com/"quoted"<x>',
            "https://example.com/path with space",
            "https://例子.中国/路径",
            "javascript:alert(1)",
            "ftp://example.com/file",
            "../wechat_qrcode.jpg",
            "tg://resolve?domain=x",
        ]
    ),
    long_url,
    short.map(lambda s: "https://example.com/" + s),
)


def _md_url(u: str | None) -> str:
    return (u or "").replace(")", "%29").replace(" ", "%20")


def _wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda t: f"**{t}**"),
        children.map(lambda t: f"*{t}*"),
        children.map(lambda t: f"> {t}"),
        children.map(lambda t: f"- {t}"),
        children.map(lambda t: f"1. {t}"),
        children.map(lambda t: f"## {t}"),
        children.map(lambda t: f"<font>{t}</font>"),
        st.tuples(children, url).map(lambda p: f"[{p[0]}]({_md_url(p[1])})"),
        st.tuples(children, children).map(lambda p: f"{p[0]}  \n{p[1]}"),
        st.tuples(children, children).map(lambda p: f"{p[0]}\n\n{p[1]}"),
        # GitHub-style lists: straight after a paragraph line, nested by 2 spaces
        st.tuples(children, children).map(lambda p: f"{p[0]}\n  - {p[1]}\n    - {p[0]}"),
        st.tuples(children, children).map(lambda p: f"{p[0]}：\n1. {p[1]}\n  1. {p[0]}\n2. x"),
    )


_leaf = st.one_of(
    text,
    short.map(lambda t: f"`{t}`"),
    st.tuples(short, url).map(lambda p: f"![{p[0]}]({_md_url(p[1])})"),
    st.just("    indented code\n    more code"),
)
_nested = st.recursive(_leaf, _wrap, max_leaves=12)
_deep = st.sampled_from([">" * 40 + " deep", "*" * 20 + "x" + "*" * 20, "- " * 30 + "x"])
# long content is costly to pack into tight messages, so it is drawn rarely
markdown = st.one_of(*[_nested] * 6, _deep, st.sampled_from(_LONG))

links = st.lists(
    st.builds(Link, label=short, url=st.one_of(url.map(lambda u: u or ""))), max_size=3
)

entries = st.builds(
    Entry,
    position=st.integers(0, 100),
    title=st.one_of(*[text] * 4, st.just(""), st.sampled_from(_LONG[:3])),
    source=st.one_of(st.none(), short),
    url=url,
    summary=st.one_of(st.just(""), markdown),
    links=links.map(tuple),
    arxiv_id=st.one_of(st.none(), st.just("2011.12289v1"), short),
    topics=st.lists(st.sampled_from(["quant", "nas", "npu", "<t&>"]), max_size=2).map(tuple),
)

sections = st.builds(
    Section,
    key=st.sampled_from(["news", "papers", "code", "blogs", "apps"]),
    heading=st.one_of(text, st.just("论文"), st.just("")),
    position=st.integers(0, 10),
    entries=st.lists(entries, max_size=3).map(tuple),
)

issues = st.builds(
    Issue,
    series=st.just(Series("embedded-ai", "嵌入式AI简报")),
    key=st.dates(date(2019, 1, 1), date(2030, 12, 31)),
    title=st.one_of(text, st.just("嵌入式AI简报 (2020-11-30) 标题")),
    subtitle=st.one_of(st.just(""), short),
    tagline=st.one_of(st.just(""), short),
    intro=st.one_of(st.just(""), markdown),
    quick_news=st.lists(markdown, max_size=2).map(tuple),
    notes=st.lists(short, max_size=2).map(tuple),
    sections=st.lists(sections, max_size=3).map(tuple),
)

snippets = st.lists(
    st.one_of(text, short.map(lambda t: f"\x02{t}\x03"), st.sampled_from(["\x02", "\x03"])),
    max_size=6,
).map("".join)

hits = st.builds(
    SearchHit,
    issue_key=st.dates(date(2019, 1, 1), date(2030, 12, 31)),
    section_key=short,
    section_heading=short,
    title=text,
    source=st.one_of(st.none(), short),
    url=url,
    snippet=st.one_of(*[snippets] * 5, st.just("\x02" + "匹配" * 3000 + "\x03")),
)

search_pages = st.builds(
    SearchPage,
    query=text,
    hits=st.lists(hits, max_size=6).map(tuple),
    page=st.integers(1, 5),
    total=st.one_of(st.none(), st.integers(0, 100)),
    has_more=st.booleans(),
    page_size=st.one_of(st.none(), st.integers(1, 10)),
)
