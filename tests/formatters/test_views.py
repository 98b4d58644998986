"""What each view shows, on each platform, for a small hand-made issue."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from briefings.model import Entry, Issue, Link, Section, Series
from formatters import (
    EN,
    ConsoleRenderer,
    Limits,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
    select_entries,
)
from storage.search import SearchHit, SearchPage

from .helpers import check_messages, check_view, renderers, visible
from .telegram_html import visible_text

SERIES = Series("embedded-ai", "嵌入式AI简报")
NEWS = Entry(
    0,
    "苹果 <M1> & “芯片”",
    "三易生活",
    "https://mp.weixin.qq.com/s/abc?a=1&b=2",
    "M1 有 **八个** 核心，见[报道](https://x.org/a)。  \n<font>注：</font>第二段 `a<b>`\n\n- 列表项\n\n![图](https://i.org/p.png)",
    (Link("代码", "https://github.com/x/y"), Link("本地", "../qr.jpg")),
    None,
    ("hardware",),
)
PAPER = Entry(
    0,
    "MicroNet",
    None,
    "https://arxiv.org/abs/2011.12289",
    "低计算量。",
    (),
    "2011.12289",
    ("nas",),
)
BLOG = Entry(1, "框架优化", "OneFlow", "javascript:alert(1)", "", (), None, ("quantization",))
ISSUE = Issue(
    SERIES,
    date(2020, 11, 30),
    "嵌入式AI简报 (2020-11-30) 标题",
    subtitle="标题",
    tagline="**关注模型压缩**",
    intro="本次3条。",
    quick_news=("华为：新机；",),
    notes=("注：个别链接打不开",),
    sections=(
        Section("news", "业界新闻", 0, (NEWS,)),
        Section("papers", "论文", 1, (PAPER,), ("注：论文备注",)),
        Section("blogs", "博文", 2, (BLOG,)),
    ),
)
ALL = renderers()


def tg(issue: Issue = ISSUE) -> str:
    [message] = TelegramRenderer().issue(issue)
    return message.text


def test_telegram_issue_markup() -> None:
    text = tg()
    assert text.startswith("<b>嵌入式AI简报 (2020-11-30) 标题</b>\n<i><b>关注模型压缩</b></i>")
    assert "<blockquote><b>导读：</b>本次3条。</blockquote>" in text
    assert "<b>快讯</b>\n• 华为：新机；" in text
    assert "<i>注：个别链接打不开</i>" in text
    expected_title = (
        '1. <b><a href="https://mp.weixin.qq.com/s/abc?a=1&amp;b=2">'
        "苹果 &lt;M1&gt; &amp; “芯片”</a></b> — <i>三易生活</i>"
    )
    assert expected_title in text
    assert '<a href="https://github.com/x/y">代码</a> | 本地' in text
    assert 'M1 有 <b>八个</b> 核心，见<a href="https://x.org/a">报道</a>。' in text
    assert "注：第二段 <code>a&lt;b&gt;</code>" in text  # <font> dropped to its text
    assert "• 列表项" in text
    assert '<a href="https://i.org/p.png">图</a>' in text
    assert "<b>论文</b>\n<i>注：论文备注</i>\n\n1. " in text
    assert "arXiv" not in text  # the entry already links to its arXiv page
    assert "javascript" not in text and "<b>框架优化</b>" in text
    assert "font" not in text
    assert text.count("标题") == 1  # subtitle already in the title


def test_arxiv_link_added_when_missing() -> None:
    entry = Entry(0, "T", None, "https://mp.weixin.qq.com/s/x", "", (), "2011.12289")
    issue = ISSUE.with_sections((Section("papers", "论文", 0, (entry,)),))
    assert '<a href="https://arxiv.org/abs/2011.12289">arXiv:2011.12289</a>' in tg(issue)


def test_wechat_issue_text() -> None:
    [message] = WeChatRenderer().issue(ISSUE)
    text = message.text
    assert message.format == "text" and message.unit == "bytes"
    assert message.size == len(text.encode())
    assert "【业界新闻】" in text
    assert (
        '1. <a href="https://mp.weixin.qq.com/s/abc?a=1&b=2">苹果 ＜M1＞ & “芯片”</a> — 三易生活'
        in text
    )
    assert "<b>" not in text and "**" not in text and "<font" not in text
    assert text.count("<a ") == text.count("</a>")


def test_wecom_markdown() -> None:
    [message] = WeComRenderer().issue(ISSUE)
    text = message.text
    assert message.format == "markdown"
    assert text.startswith("## 嵌入式AI简报 (2020-11-30) 标题\n**关注模型压缩**")
    assert "### 业界新闻" in text
    assert "1. **[苹果 ＜M1＞ & “芯片”](https://mp.weixin.qq.com/s/abc?a=1&b=2)**" in text
    assert '<font color="comment">三易生活</font>' in text
    assert "> **导读：**本次3条。" in text
    assert "`a＜b＞`" in text


def test_wecom_neutralises_markdown_in_source_text() -> None:
    url = 'https://x.org/(1)_"2"\\3'
    entry = Entry(0, "a*b [c] (d) `e #f >g \\ <x>", None, url, "1 * 2 ` #3")
    issue = ISSUE.with_sections((Section("news", "新闻", 0, (entry,)),))
    [message] = WeComRenderer().issue(issue)
    text = message.text
    assert "**[a∗b ［c］ (d) ˋe ＃f ＞g ＼ ＜x＞](https://x.org/%281%29_%222%22%5C3)**" in text
    assert "1 ∗ 2 ˋ ＃3" in text


TITLE_WITH_MARKUP = Entry(
    0,
    "**NVIDIA** 发布 `TensorRT 8` <font color=red>新版</font> *速度* __翻倍__ ~~旧~~ \\*注\\*",
    "[**机器之心**](https://jiqizhixin.example)",
    "https://x.org/trt",
    "",
    (Link("**代码**", "https://github.com/x/y"),),
)
TITLE_TEXT = "NVIDIA 发布 TensorRT 8 新版 速度 翻倍 旧 *注*"


@pytest.mark.parametrize("name", ALL)
def test_titles_show_their_text_without_markup_on_every_platform(name: str) -> None:
    renderer = ALL[name]
    issue = ISSUE.with_sections((Section("news", "**业界**<b>新闻</b>", 0, (TITLE_WITH_MARKUP,)),))
    hit = replace(HIT, title=TITLE_WITH_MARKUP.title, source="*量子位*")
    views = [
        renderer.issue(issue),
        renderer.digest(issue),
        renderer.entry(issue, issue.sections[0], TITLE_WITH_MARKUP),
        renderer.search_results(SearchPage("x", (hit,))),
    ]
    for messages in views:
        check_messages(renderer, messages)
        shown = "\n".join(visible(renderer, m.text) for m in messages)
        assert _written(name, TITLE_TEXT) in shown, shown
        for syntax in ("**", "∗∗", "`", "ˋ", "<font", "＜font", "</", "~~", "__"):
            assert syntax not in shown, (syntax, shown)
    whole, search = ("".join(visible(renderer, m.text) for m in v) for v in (views[0], views[3]))
    assert all(text in whole for text in ("业界新闻", "机器之心", "代码")), whole
    assert "量子位" in search


def _written(name: str, text: str) -> str:
    """How a platform writes `text` (WeCom swaps markup characters for lookalikes)."""
    return text.replace("*", "∗") if name.startswith("wecom") else text


def test_console_shows_urls() -> None:
    [message] = ConsoleRenderer().issue(ISSUE)
    assert message.unit == "chars" and message.size == len(message.text)
    assert "苹果 <M1> & “芯片” <https://mp.weixin.qq.com/s/abc?a=1&b=2> — 三易生活" in message.text
    assert "【论文】" in message.text


def test_console_marks_headings_in_the_readers_convention() -> None:
    english = ConsoleRenderer(EN).overview(ISSUE)[0].text
    assert "== Contents ==" in english and "【Contents】" not in english
    chinese = ConsoleRenderer().overview(ISSUE)[0].text
    assert "【目录】" in chinese and "==" not in chinese
    # a continued section repeats its heading in the same form
    tight = ConsoleRenderer(EN, Limits(120, "chars")).issue(ISSUE)
    continued = [m.text.partition("\n")[0] for m in tight[1:]]
    assert any(line.startswith("== ") and line.endswith(" (continued) ==") for line in continued)


def test_link_previews_are_off_for_pushes_only() -> None:
    renderer = TelegramRenderer()
    assert all(m.disable_preview for m in renderer.issue(ISSUE))
    assert all(m.disable_preview for m in renderer.digest(ISSUE))
    assert not any(m.disable_preview for m in renderer.entry(ISSUE, ISSUE.sections[0], NEWS))
    with_previews = TelegramRenderer(issue_link_previews=True)
    assert not any(m.disable_preview for m in with_previews.issue(ISSUE))


def test_sections_view_keeps_issue_order_and_header() -> None:
    text = visible_text(TelegramRenderer().sections(ISSUE, ["blogs", "news", "missing"])[0].text)
    assert text.startswith("嵌入式AI简报")
    assert text.index("业界新闻") < text.index("博文")
    assert "论文" not in text
    assert TelegramRenderer().sections(ISSUE, ["missing"]) == []


def test_subscriber_filter_by_section_or_topic() -> None:
    selected = select_entries(ISSUE, {"papers"}, {"quantization"})
    assert [(s.key, len(s.entries)) for s in selected.sections] == [("papers", 1), ("blogs", 1)]
    assert selected.sections[0].notes == ("注：论文备注",)
    text = visible_text(TelegramRenderer().for_subscriber(ISSUE, topics=["hardware"])[0].text)
    assert "苹果" in text and "MicroNet" not in text
    assert TelegramRenderer().for_subscriber(ISSUE, sections=["none"], topics=["none"]) == []


def test_digest_has_titles_and_links_only() -> None:
    [message] = TelegramRenderer().digest(ISSUE)
    assert '<a href="https://arxiv.org/abs/2011.12289">MicroNet</a>' in message.text
    assert "低计算量" not in message.text and "八个" not in message.text


def test_entry_view() -> None:
    [message] = TelegramRenderer().entry(ISSUE, ISSUE.sections[0], NEWS)
    text = visible_text(message.text)
    assert text.startswith("嵌入式AI简报 (2020-11-30) 标题 · 业界新闻")
    assert "摘要：M1 有 八个 核心" in text
    assert text.endswith("标签：hardware")


def test_overview_has_toc_with_counts() -> None:
    [message] = TelegramRenderer().overview(ISSUE)
    text = visible_text(message.text)
    assert "导读：本次3条。" in text
    assert "目录\n• 业界新闻 — 1 条\n• 论文 — 1 条\n• 博文 — 1 条\n共 3 条" in text
    assert "八个" not in text
    [english] = TelegramRenderer(labels=EN).overview(ISSUE)
    assert "Contents" in english.text and "3 entries in total" in english.text


HIT = SearchHit(
    date(2020, 11, 30),
    "news",
    "业界新闻",
    "苹果 M1",
    "量子位",
    "https://x.org/m1",
    "新的\x02M1\x03芯片 <x>",
)


@pytest.mark.parametrize(
    ("renderer", "marked"),
    [
        (TelegramRenderer(), "新的<b>M1</b>芯片 &lt;x&gt;"),
        (WeChatRenderer(), "新的【M1】芯片 ＜x＞"),
        (WeComRenderer(), "新的**M1**芯片 ＜x＞"),
        (ConsoleRenderer(), "新的[M1]芯片 <x>"),
    ],
)
def test_search_marks_matches(renderer, marked: str) -> None:
    page = SearchPage("M1 <芯片>", (HIT,), page=2, total=12, page_size=5)
    [message] = renderer.search_results(page)
    assert marked in message.text
    assert "6. " in message.text  # numbering continues across pages
    assert "第 2/3 页" in message.text and "共 12 条结果" in message.text
    assert "还有更多结果" in message.text


def test_search_without_hits() -> None:
    [message] = TelegramRenderer().search_results(SearchPage("<q>", ()))
    assert "搜索“&lt;q&gt;”" in message.text and "没有找到相关内容。" in message.text


@pytest.mark.parametrize("name", ALL)
def test_service_text_is_escaped_and_kept(name: str) -> None:
    renderer = ALL[name]
    messages = renderer.service('用法: /sub <section> & "topic"\n\n/help')
    check_messages(renderer, messages)
    assert messages[0].text.count("/sub") == 1
    if name.startswith("telegram"):
        assert messages[0].text == '用法: /sub &lt;section&gt; &amp; "topic"\n\n/help'
    assert renderer.service("  \n ") == []


def test_limits_must_match_the_platform_unit() -> None:
    with pytest.raises(ValueError):
        WeChatRenderer(limits=Limits(2048, "utf16"))
    with pytest.raises(ValueError):
        TelegramRenderer().with_limits(Limits(100, "bytes"))


LONG_URL = "https://example.com/" + "p" * 5000
HOSTILE = Issue(
    SERIES,
    date(2021, 1, 1),
    "😀" * 3000,
    intro="导读" + "长" * 10_000,
    sections=(
        Section(
            "news",
            "<新闻> & “引号”",
            0,
            (
                Entry(0, "a" * 10_000, "src", LONG_URL, "无标点" * 4000, (Link("长", LONG_URL),)),
                Entry(1, "", None, None, ""),
                Entry(2, "t", None, "https://x.org", f"[{'链' * 5000}]({LONG_URL}) " + "x " * 3000),
                Entry(3, "<b>&amp;</b>", None, 'http://x.org/"<>', "> " * 100 + "深"),
            ),
        ),
    ),
)


@pytest.mark.parametrize("name", ALL)
def test_hostile_issue_on_every_platform(name: str) -> None:
    renderer = ALL[name]
    check_view(renderer, lambda r: r.issue(HOSTILE))
    for section in HOSTILE.sections:
        check_view(renderer, lambda r, s=section: r.sections(HOSTILE, [s.key]))
        for entry in section.entries:
            check_view(renderer, lambda r, s=section, e=entry: r.entry(HOSTILE, s, e))
    check_view(renderer, lambda r: r.digest(HOSTILE))


def test_wecom_never_styles_whitespace_alone() -> None:
    hit = replace(HIT, snippet="匹配\x02 \x03之间 `\x02\u3000\x03`")
    [message] = WeComRenderer().search_results(SearchPage("q", (hit,)))
    assert "** **" not in message.text and "**\u3000**" not in message.text
    check_messages(WeComRenderer(), [message])
