"""The decoders every user-sent number and callback passes through, and the bounded echo."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import i18n
from bot.commands.bounds import (
    DB_INT_MAX,
    NumberError,
    callback_fields,
    number_or_none,
    read_number,
)
from bot.commands.types import CALLBACK_DATA_MAX_BYTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("10", 10), (" 7 ", 7), ("007", 7), ("0" * 500 + "3", 3), ("-0", 0)],
)
def test_numbers_in_range_are_read(text: str, expected: int) -> None:
    assert read_number(text, -5, 10) == expected


@pytest.mark.parametrize(
    "text", ["11", "-6", "9" * 19, "9" * 20, "1" + "0" * 400, "-" + "9" * 5000, str(2**63)]
)
def test_numbers_out_of_range_say_so(text: str) -> None:
    with pytest.raises(NumberError) as caught:
        read_number(text, -5, 10)
    assert caught.value.code == "out_of_range"
    assert len(str(caught.value)) < 80  # the number is clipped, not echoed whole


@pytest.mark.parametrize(
    "text", ["", "x", "1.5", "1e3", "5_000", "+5", "²", "١٢", "１２", "0x10", "1 2", "--1", "nan"]
)
def test_anything_but_ascii_digits_is_not_a_number(text: str) -> None:
    """int() takes several of these (其他文字的数字, underscores, signs); a button never does."""
    with pytest.raises(NumberError) as caught:
        read_number(text, 0, 100)
    assert caught.value.code == "not_number"
    assert number_or_none(text, 0, 100) is None


def test_a_100k_digit_number_is_refused_without_converting_it() -> None:
    """int() of over 4300 digits raises ValueError (and is quadratic below that)."""
    text = "7" * 100_000
    start = time.thread_time()  # this thread's CPU: neither the load nor other threads count
    assert number_or_none(text, 1, DB_INT_MAX) is None
    assert time.thread_time() - start < 0.5


def test_an_empty_range_accepts_nothing() -> None:
    """An issue without sections: a section index button has no valid value."""
    assert number_or_none("0", 0, -1) is None


def test_bounds_beyond_a_database_integer_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="database integer"):
        read_number("1", 0, 2**64)


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_read_number_never_returns_outside_its_bounds(value: int) -> None:
    got = number_or_none(str(value), -1000, DB_INT_MAX)
    assert got == (value if -1000 <= value <= DB_INT_MAX else None)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ls:8", ("ls", ["8"])),
        ("t:a", ("t", ["a"])),
        ("q", ("q", [])),
        ("x:20261116:#1", ("x", ["20261116", "#1"])),
        ("x::", ("x", ["", ""])),
    ],
)
def test_callback_fields_split_our_buttons(data: str, expected: tuple[str, list[str]]) -> None:
    assert callback_fields(data) == expected


@pytest.mark.parametrize(
    "data", ["", "ls:" + "9" * CALLBACK_DATA_MAX_BYTES, "é" * 33, "x" * 1_000_000, "\ud800" * 40]
)
def test_callback_data_no_button_of_ours_carries_is_refused(data: str) -> None:
    assert callback_fields(data) is None


def test_clip_keeps_short_text_on_one_line() -> None:
    assert i18n.clip("  papers \n\t chips ") == "papers chips"
    assert i18n.clip("论文") == "论文"


@pytest.mark.parametrize("text", ["x" * 100_000, "词" * 41, " " * 10_000 + "y" * 50, "a\n" * 5000])
def test_clip_cuts_long_text_with_an_ellipsis(text: str) -> None:
    clipped = i18n.clip(text)
    assert len(clipped) <= i18n.ECHO_CHARS and clipped.endswith("…")
    assert "\n" not in clipped


@pytest.mark.parametrize(("lang", "more"), [("en", "and 9995 more"), ("zh", "及其他 9995 项")])
def test_echo_names_lists_five_then_counts_the_rest(lang: str, more: str) -> None:
    names = [f"name{i}" for i in range(10_000)]
    text = i18n.echo_names(lang, names)
    assert text.endswith(more)
    assert "“name4”" in text and "name5" not in text
    assert len(text) < 120


def test_echo_names_without_a_rest_has_no_count() -> None:
    assert i18n.echo_names("en", ["a", "b"]) == "“a”, “b”"
    assert i18n.echo_names("zh", ["a", "b"]) == "“a”、“b”"


def test_echo_names_clips_a_100k_name() -> None:
    text = i18n.echo_names("zh", ["名" * 100_000])
    assert len(text) <= i18n.ECHO_CHARS + 2 and text.endswith("…”")
