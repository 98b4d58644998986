"""The WeCom markdown and WeChat text validators accept what is valid and flag the rest,
and `check_messages` runs them for those platforms."""

from __future__ import annotations

import pytest

from formatters import Message, WeChatRenderer, WeComRenderer

from .helpers import check_messages
from .wechat_text import validate_wechat_text
from .wecom_markdown import validate_wecom_markdown

WECOM_VALID = [
    "plain ∗text∗ ［x］ ＜y＞ ＃z",
    "## heading\n### section",
    "> quoted **bold** line\n> second",
    '1. **[title](https://x.org/a?b=1&c=2)** — <font color="comment">source</font>',
    '<font color="info">i</font> <font color="warning">w</font>',
    "`code` and **`bold code`** and [**bold link**](http://x.org/%28p%29)",
    "(parentheses) are text",
]

WECOM_INVALID = {
    "**bold": "unpaired bold",
    "** bold**": "starts or ends with a space",
    "****": "empty bold",
    "a * b": "stray '*'",
    "`code": "unpaired code",
    "[text](https://x.org": "stray '['",
    "[](https://x.org)": "has no text",
    "[text](javascript:alert(1))": "stray",
    "[text](ftp://x.org/f)": "not an http(s) URL",
    "[text](https://x.org/a b)": "not an http(s) URL",
    '[text](https://x.org/"q")': "not an http(s) URL",
    '<font color="red">x</font>': "colour 'red'",
    '<font color="info">x': "never closed",
    "x</font>": "without <font>",
    '<font color="info"><font color="comment">x</font></font>': "nested <font>",
    "<b>x</b>": "not allowed",
    "a < b": "stray '<'",
    "text # tag": "stray '#'",
    "a > b": "stray '>'",
    "": "empty",
}

WECHAT_VALID = [
    "plain text with ＜lookalikes＞ & “quotes” * _ #",
    '<a href="https://x.org/a?b=1&c=2">title</a> — source',
    '1. <a href="http://x.org">a</a> | <a href="https://y.org/%22">b</a>\nline two',
]

WECHAT_INVALID = {
    "<b>bold</b>": "not allowed",
    '<a href="https://x.org">x': "never closed",
    "x</a>": "without <a>",
    '<a href="https://x.org"></a>': "without text",
    '<a href="https://x.org"><a href="https://y.org">x</a></a>': "nested",
    '<a href="javascript:alert(1)">x</a>': "not an http(s) URL",
    '<a href="https://x.org/a b">x</a>': "spaces",
    "<a href=https://x.org>x</a>": "not allowed",
    "1 < 2": "stray '<'",
    "2 > 1": "stray '>'",
    '<a href="https://x.org">x\n</a>': "never closed",
    " \n": "empty",
}


@pytest.mark.parametrize("text", WECOM_VALID)
def test_valid_wecom_markdown_passes(text: str) -> None:
    assert validate_wecom_markdown(text) == []


@pytest.mark.parametrize(("text", "fragment"), WECOM_INVALID.items())
def test_invalid_wecom_markdown_is_flagged(text: str, fragment: str) -> None:
    problems = validate_wecom_markdown(text)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("text", WECHAT_VALID)
def test_valid_wechat_text_passes(text: str) -> None:
    assert validate_wechat_text(text) == []


@pytest.mark.parametrize(("text", "fragment"), WECHAT_INVALID.items())
def test_invalid_wechat_text_is_flagged(text: str, fragment: str) -> None:
    problems = validate_wechat_text(text)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("renderer", "text", "fmt"),
    [
        (WeComRenderer(), "**unclosed", "markdown"),
        (WeChatRenderer(), "<b>x</b>", "text"),
    ],
)
def test_check_messages_runs_the_platform_validator(renderer, text: str, fmt: str) -> None:
    message = Message(text, fmt, len(text.encode()), "bytes")
    with pytest.raises(AssertionError):
        check_messages(renderer, [message])
    fine = "ok ＜fine＞"
    check_messages(renderer, [Message(fine, fmt, len(fine.encode()), "bytes")])
