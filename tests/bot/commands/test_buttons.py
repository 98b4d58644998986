"""Typed button payloads: every kind round-trips, fits 64 bytes, and forged data is None."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import CALLBACK_DATA_MAX_BYTES
from bot.commands.bounds import MAX_OFFSET, MAX_PAGE
from bot.commands.buttons import (
    MAX_INDEX,
    PAYLOADS,
    IssueList,
    IssuePart,
    OpenIssue,
    Payload,
    SearchMore,
    SettingChoice,
    Toggle,
    decode,
)
from bot.commands.table import COMMAND_TABLE

DAY = date(2026, 11, 16)
EXAMPLES: list[tuple[Payload, str]] = [
    (OpenIssue(DAY), "o:20261116"),
    (IssuePart(DAY), "x:20261116:*"),
    (IssuePart(DAY, section="papers"), "x:20261116:papers"),
    (IssuePart(DAY, index=3), "x:20261116:#3"),
    (IssueList(16), "ls:16"),
    (SearchMore("0123456789ab", 2), "q:0123456789ab:2"),
    (Toggle("all"), "t:a"),
    (Toggle("section", key="papers"), "t:s:papers"),
    (Toggle("topic", index=4), "t:t#:4"),
    (SettingChoice(format="digest"), "g:f:digest"),
    (SettingChoice(language="en"), "g:l:en"),
    (SettingChoice(paused=True), "g:p:1"),
    (SettingChoice(paused=False), "g:p:0"),
]


@pytest.mark.parametrize(("payload", "data"), EXAMPLES)
def test_the_wire_format_is_unchanged_and_round_trips(payload: Payload, data: str) -> None:
    assert payload.encode() == data  # buttons already in chats must keep working
    assert decode(data) == payload


def test_every_payload_kind_has_a_handler_in_the_table() -> None:
    assert set(COMMAND_TABLE.by_payload) == set(PAYLOADS)
    assert {type(p) for p, _ in EXAMPLES} == set(PAYLOADS)


@pytest.mark.parametrize(
    "data",
    [
        "",
        ":",
        "o",
        "o:",
        "o:2026111",
        "o:20261131",
        "o:２０２６１１１６",
        "o:20261116:x",
        "x:20261116",
        "x:20261116:",
        "x:20261116:#",
        "x:20261116:#-1",
        f"x:20261116:#{MAX_INDEX + 1}",
        "x:20261116:a:b",
        "ls:-1",
        f"ls:{MAX_OFFSET + 1}",
        "ls:1_0",
        "ls:",
        "q:0123456789ab:0",
        f"q:0123456789ab:{MAX_PAGE + 1}",
        "q:0123456789AB:1",
        "q:0123456789a:1",
        "q:0123456789ab",
        "t:",
        "t:a:x",
        "t:s:",
        "t:s##:1",
        "t:x:papers",
        "t:s#:²",
        "g:f:short",
        "g:p:2",
        "g:l",
        "zz:1",
        "x" * 65,
        "o:\ud800",
    ],
)
def test_forged_or_stale_data_decodes_to_none(data: str) -> None:
    assert decode(data) is None


_KEYS = st.text(min_size=1, max_size=80)


@given(day=st.dates(min_value=date(1000, 1, 1)), key=_KEYS, index=st.integers(0, MAX_INDEX))
def test_any_section_key_gets_a_button_that_fits_and_names_that_section(
    day: date, key: str, index: int
) -> None:
    payload = IssuePart.of_section(day, key, index)
    data = payload.encode()
    assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
    assert decode(data) == payload
    assert payload.section == key or payload.index == index


@given(kind=st.sampled_from(["section", "topic"]), key=_KEYS, index=st.integers(0, MAX_INDEX))
def test_any_toggle_fits_and_round_trips(kind: str, key: str, index: int) -> None:
    payload = Toggle.of(kind, key, index)  # type: ignore[arg-type]
    data = payload.encode()
    assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
    assert decode(data) == payload
    assert payload.key == key or payload.index == index


@given(st.text(max_size=100))
def test_decode_never_raises(data: str) -> None:
    payload = decode(data)
    assert payload is None or decode(payload.encode()) == payload


def test_keys_that_look_like_other_tokens_fall_back_to_the_index() -> None:
    for key in ("*", "#2", "a:b", "p" * 60):
        assert IssuePart.of_section(DAY, key, 1) == IssuePart(DAY, index=1)


@pytest.mark.parametrize(
    "payload",
    [
        IssuePart(DAY, section="a:b"),
        IssuePart(DAY, section="#1"),
        IssuePart(DAY, section="p" * 60),
        IssuePart(DAY, section=""),
        Toggle("topic", key="x:y"),
        IssueList(-1),
        SearchMore("not-a-hash", 1),
        OpenIssue(date(999, 1, 1)),
    ],
)
def test_a_payload_we_would_not_accept_back_cannot_be_encoded(payload: Payload) -> None:
    with pytest.raises(ValueError, match="round-trip"):
        payload.encode()
