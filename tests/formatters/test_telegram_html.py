"""The Telegram HTML validator accepts what Telegram accepts and flags the rest."""

from __future__ import annotations

import pytest

from .telegram_html import entity_count, validate_telegram_html, visible_text

VALID = [
    "plain text",
    "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <s>s</s>",
    '<a href="https://example.com/?a=1&amp;b=2">link</a>',
    '<a href="tg://user?id=1">user</a>',
    "<code>x &lt; y</code>",
    '<pre><code class="language-python">print(1)</code></pre>',
    "<blockquote>quoted <b>bold</b></blockquote>",
    "<b>outer <i>inner</i></b>",
    "<tg-spoiler>secret</tg-spoiler>",
    "&#128512; &#x1F600; &quot;",
]

INVALID = {
    "<font color=red>x</font>": "not allowed",
    "<div>x</div>": "not allowed",
    "a < b": "unescaped '<'",
    "a > b": "unescaped '>'",
    "fish & chips": "unescaped '&'",
    "&nbsp;": "unescaped '&'",
    "<b>x": "never closed",
    "<b><i>x</b></i>": "closes",
    "x</b>": "closes",
    '<a href="javascript:alert(1)">x</a>': "scheme",
    '<a href="/relative">x</a>': "scheme",
    "<a>x</a>": "href",
    '<a href="https://a" title="t">x</a>': "href",
    '<b class="x">x</b>': "attributes not allowed",
    '<code class="language-py">x</code>': "attributes not allowed",
    "<code><b>x</b></code>": "inside <code>",
    "<pre><b>x</b></pre>": "inside <pre>",
    '<a href="https://a"><code>x</code></a>': "inside <a>",
    '<a href="https://a"><a href="https://b">x</a></a>': "nested <a>",
    "<blockquote><blockquote>x</blockquote></blockquote>": "nested <blockquote>",
    "<br/>": "not allowed",
    "   ": "empty",
    "<b></b>": "empty",
}


@pytest.mark.parametrize("html", VALID)
def test_accepts_valid_markup(html: str) -> None:
    assert validate_telegram_html(html) == []


@pytest.mark.parametrize(("html", "problem"), INVALID.items())
def test_rejects_invalid_markup(html: str, problem: str) -> None:
    problems = validate_telegram_html(html)
    assert any(problem in p for p in problems), problems


def test_visible_text_drops_tags_and_decodes_entities() -> None:
    html = '<b>a &lt;b&gt;</b> <a href="https://x">&amp; &#128512;</a>'
    assert visible_text(html) == "a <b> & 😀"


def test_length_is_counted_in_utf16_units() -> None:
    assert validate_telegram_html("a" * 4096) == []
    assert validate_telegram_html("😀" * 2048) == []  # 2 units each
    assert any("4098" in p for p in validate_telegram_html("😀" * 2049))
    # markup does not count towards the limit
    assert validate_telegram_html("<b>" + "a" * 4096 + "</b>") == []


def test_entity_limit() -> None:
    assert entity_count("<b>a</b><i>b</i>") == 2
    assert validate_telegram_html("<b>x</b>" * 100) == []
    assert any("101 entities" in p for p in validate_telegram_html("<b>x</b>" * 101))
