"""Every text exists in both languages with the same fields; language choice rules."""

from __future__ import annotations

import string

import pytest

from bot import i18n
from bot.commands.table import COMMAND_TABLE
from briefings.errors import WARNINGS


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.TEXTS))
def test_both_languages_take_the_same_fields(key: str) -> None:
    zh, en = i18n.TEXTS[key]
    assert zh.strip() and en.strip()
    assert _fields(zh) == _fields(en)


def test_every_command_has_texts_and_no_text_is_orphaned() -> None:
    assert set(COMMAND_TABLE.by_name) == set(i18n.COMMAND_TEXTS)


@pytest.mark.parametrize(
    ("stored", "code", "chosen", "expected"),
    [
        ("en", "zh-hans", True, "en"),  # chosen in /settings: wins over the client
        ("zh", "en", True, "zh"),
        ("en", "zh-hans", False, "zh"),  # not chosen: the client's language
        ("zh", "en", False, "en"),
        ("en", None, False, "en"),  # no hint (WeChat): what the chat last used
        (None, "zh-hant", False, "zh"),
        (None, "zh", False, "zh"),
        (None, "en-US", False, "en"),
        (None, "ru", False, "en"),
        (None, None, False, "zh"),
        (None, "", False, "zh"),
        (None, "en", True, "en"),
    ],
)
def test_pick_language(stored: str | None, code: str | None, chosen: bool, expected: str) -> None:
    assert i18n.pick_language(stored, code, chosen) == expected


def test_counts_of_one_take_the_singular() -> None:
    assert i18n.t("en", "issues_line", date="2026-11-16", count=1) == "2026-11-16 · 1 entry"
    assert i18n.t("en", "issues_line", date="2026-11-16", count=11) == "2026-11-16 · 11 entries"
    assert i18n.t("zh", "issues_line", date="2026-11-16", count=1) == "2026-11-16 · 1 条"
    assert all(key[: -len("_one")] in i18n.TEXTS for key in i18n.TEXTS if key.endswith("_one"))


def test_every_parser_warning_is_said_in_both_languages() -> None:
    assert set(i18n.WARNING_TEXTS_ZH) == set(WARNINGS)
    message = "item link target '../a.md' is not an http(s) URL"
    assert i18n.parser_warning("zh", message) == "条目的链接目标 '../a.md' 不是 http(s) 网址"
    assert i18n.parser_warning("en", message) == message  # the parser's (and log's) words
    assert i18n.parser_warning("zh", "x.md: unreadable; skipped") == "x.md: unreadable; skipped"
