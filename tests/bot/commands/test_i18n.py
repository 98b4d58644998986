"""Every text exists in both languages with the same fields; language choice rules."""

from __future__ import annotations

import string

import pytest

from bot import i18n
from bot.commands.parsing import COMMANDS


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.TEXTS))
def test_both_languages_take_the_same_fields(key: str) -> None:
    zh, en = i18n.TEXTS[key]
    assert zh.strip() and en.strip()
    assert _fields(zh) == _fields(en)


def test_every_command_is_described_with_usage() -> None:
    assert set(COMMANDS) == set(i18n.DESCRIPTIONS) == set(i18n.USAGE)


@pytest.mark.parametrize(
    ("stored", "code", "expected"),
    [
        ("en", "zh-hans", "en"),  # stored wins
        ("zh", "en", "zh"),
        (None, "zh-hant", "zh"),
        (None, "zh", "zh"),
        (None, "en-US", "en"),
        (None, "ru", "en"),
        (None, None, "zh"),
        (None, "", "zh"),
    ],
)
def test_pick_language(stored: str | None, code: str | None, expected: str) -> None:
    assert i18n.pick_language(stored, code) == expected
