"""The public pages' own words in Chinese and English, and how a request picks one.

Section and topic names come from the taxonomy (`Taxonomy.display_name`); these are the
page furniture only. A `?lang=` in the address wins over the browser's Accept-Language,
so a shared link shows what its sender saw.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("zh", "en")

LABELS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "home": "首页",
        "latest": "最新一期",
        "all_issues": "往期",
        "entries": "条",
        "sections": "栏目",
        "topics": "话题",
        "search": "搜索",
        "search_button": "搜索",
        "search_placeholder": "关键词，如 量化 或 section:paper",
        "no_results": "没有找到结果。",
        "results_total": "共 {n} 条结果",
        "page": "第 {n} 页",
        "previous": "上一页",
        "next": "下一页",
        "older": "上一期",
        "newer": "下一期",
        "read_original": "原文",
        "links": "相关链接",
        "feed_atom": "Atom 订阅",
        "feed_rss": "RSS 订阅",
        "intro": "导读",
        "quick_news": "快讯",
        "not_found": "页面不存在",
        "not_found_text": "这个地址没有内容。",
        "empty": "档案里还没有简报。",
        "language": "English",
        "operator": "运营",
        "section_page": "栏目：{name}",
        "topic_page": "话题：{name}",
        "in_issue": "出自",
    },
    "en": {
        "home": "Home",
        "latest": "Latest issue",
        "all_issues": "All issues",
        "entries": "entries",
        "sections": "Sections",
        "topics": "Topics",
        "search": "Search",
        "search_button": "Search",
        "search_placeholder": "words, e.g. quantization or section:paper",
        "no_results": "Nothing found.",
        "results_total": "{n} results",
        "page": "page {n}",
        "previous": "Previous",
        "next": "Next",
        "older": "Older issue",
        "newer": "Newer issue",
        "read_original": "Source",
        "links": "Links",
        "feed_atom": "Atom feed",
        "feed_rss": "RSS feed",
        "intro": "Introduction",
        "quick_news": "Quick news",
        "not_found": "Not found",
        "not_found_text": "There is nothing at this address.",
        "empty": "The archive holds no issue yet.",
        "language": "中文",
        "operator": "Operator",
        "section_page": "Section: {name}",
        "topic_page": "Topic: {name}",
        "in_issue": "from",
    },
}


def choose_language(query_lang: str | None, accept_language: str | None) -> tuple[str, bool]:
    """(language, chosen in the address): `?lang=` first, then the browser's preference."""
    if query_lang in LANGUAGES:
        return query_lang, True
    best, best_q = "zh", -1.0
    for order, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        if base not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q or (q == best_q and order == 0):
            best, best_q = base, q
    return best, False


def lang_tag(code: str) -> str:
    """A BCP 47 tag of a configured language (`zh`, `en`): pages' and feeds' language."""
    return "zh-CN" if code == "zh" else code
