"""Typed button payloads: every kind of callback data, encoded and decoded here only.

A payload is `prefix:field:field`, at most 64 bytes (Telegram's limit). Callback data
is untrusted (forged updates, old clients): `decode` returns None for anything that
is not exactly one of these shapes, with every number range-checked by
`bot.commands.bounds`, so handlers only ever see well-formed payloads. Whether the
issue, section or query a payload names still exists is the handler's question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar, Final, Literal

from bot.commands.bounds import MAX_OFFSET, MAX_PAGE, callback_fields, number_or_none
from bot.commands.types import CALLBACK_DATA_MAX_BYTES, Button

HASH_CHARS: Final = 12  # a search query's hash in a "more" button
MAX_INDEX: Final = 10_000  # a section or topic by position; the handler checks the real count
_HASH = re.compile(f"[0-9a-f]{{{HASH_CHARS}}}")
_WHOLE = "*"
_INDEX = "#"


class Payload:
    """Base of the payload dataclasses: `PREFIX` names the kind in the callback data."""

    __slots__ = ()
    PREFIX: ClassVar[str]

    def fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    @classmethod
    def parse(cls, fields: list[str]) -> Payload | None:
        raise NotImplementedError

    def encode(self) -> str:
        """The callback data; ValueError for a payload `decode` would not give back
        (over 64 bytes, a key with `:`), so every button we send is one we accept."""
        data = ":".join((self.PREFIX, *self.fields()))
        if decode(data) != self:
            raise ValueError(
                f"payload does not round-trip in {CALLBACK_DATA_MAX_BYTES} bytes: {data!r}"
            )
        return data


def button(text: str, payload: Payload) -> Button:
    return Button(text, payload.encode())


def decode(data: str) -> Payload | None:
    """The payload a button of ours carries, or None (expired, forged, malformed)."""
    split = callback_fields(data)
    if split is None:
        return None
    kind = _BY_PREFIX.get(split[0])
    return None if kind is None else kind.parse(split[1])


# --- issues -------------------------------------------------------------------------

MAX_ISSUE_NUMBER: Final = 999_999  # the 6 digits `/issue 51` accepts
_NUMBER_MARK = "n"  # `o:n51`: issue #51 of a numbered series (a date is 8 bare digits)
IssueRef = date | int  # an issue by date, or (a numbered series) by number


def compact(key: date) -> str:
    return key.strftime("%Y%m%d")


def from_compact(text: str) -> date | None:
    """The date of a button's `20261116` (ASCII only: buttons never carry other digits)."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def ref_field(ref: IssueRef) -> str:
    return f"{_NUMBER_MARK}{ref}" if isinstance(ref, int) else compact(ref)


def ref_from_field(text: str) -> IssueRef | None:
    """`20261116` (buttons sent before numbers existed keep working) or `n51`."""
    if text.startswith(_NUMBER_MARK):
        return number_or_none(text[1:], 0, MAX_ISSUE_NUMBER)
    return from_compact(text)


@dataclass(frozen=True, slots=True)
class OpenIssue(Payload):
    """An issue's overview (from /issues and the "nearest issues" buttons)."""

    PREFIX: ClassVar[str] = "o"
    issue: IssueRef

    def fields(self) -> tuple[str, ...]:
        return (ref_field(self.issue),)

    @classmethod
    def parse(cls, fields: list[str]) -> OpenIssue | None:
        key = ref_from_field(fields[0]) if len(fields) == 1 else None
        return None if key is None else cls(key)


@dataclass(frozen=True, slots=True)
class IssuePart(Payload):
    """One section of an issue, by key or (keys that do not fit) by position; neither
    means the whole issue."""

    PREFIX: ClassVar[str] = "x"
    issue: IssueRef
    section: str | None = None
    index: int | None = None

    @classmethod
    def of_section(cls, issue: IssueRef, key: str, index: int) -> IssuePart:
        """By key when it round-trips and fits the 64 bytes, else by position."""
        by_key = cls(issue, section=key)
        if _plain_key(key) and _fits(by_key):
            return by_key
        return cls(issue, index=index)

    def fields(self) -> tuple[str, ...]:
        if self.index is not None:
            return (ref_field(self.issue), f"{_INDEX}{self.index}")
        return (ref_field(self.issue), _WHOLE if self.section is None else self.section)

    @classmethod
    def parse(cls, fields: list[str]) -> IssuePart | None:
        key = ref_from_field(fields[0]) if len(fields) == 2 else None
        if key is None:
            return None
        token = fields[1]
        if token == _WHOLE:
            return cls(key)
        if token.startswith(_INDEX):
            index = number_or_none(token[1:], 0, MAX_INDEX)
            return None if index is None else cls(key, index=index)
        return cls(key, section=token) if token else None


@dataclass(frozen=True, slots=True)
class IssueList(Payload):
    """The page of /issues that starts `offset` issues from the newest."""

    PREFIX: ClassVar[str] = "ls"
    offset: int

    def fields(self) -> tuple[str, ...]:
        return (str(self.offset),)

    @classmethod
    def parse(cls, fields: list[str]) -> IssueList | None:
        offset = number_or_none(fields[0], 0, MAX_OFFSET) if len(fields) == 1 else None
        return None if offset is None else cls(offset)


# --- search -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchMore(Payload):
    """Page `page` of the query stored under `digest` (the query itself would not fit)."""

    PREFIX: ClassVar[str] = "q"
    digest: str
    page: int

    def fields(self) -> tuple[str, ...]:
        return (self.digest, str(self.page))

    @classmethod
    def parse(cls, fields: list[str]) -> SearchMore | None:
        if len(fields) != 2 or not _HASH.fullmatch(fields[0]):
            return None
        page = number_or_none(fields[1], 1, MAX_PAGE)
        return None if page is None else cls(fields[0], page)


# --- subscriptions and settings -----------------------------------------------------

ToggleKind = Literal["all", "section", "topic", "series"]
_TOGGLE_CODES: Final[dict[str, ToggleKind]] = {"s": "section", "t": "topic"}
_TOGGLE_LETTERS: Final = {kind: code for code, kind in _TOGGLE_CODES.items()}
_SERIES_MARK = "@"  # `t:@weekly:s:papers`: a toggle within the series `weekly`
_WHOLE_SERIES = "z"  # `t:@weekly:z`: the series itself on or off (/series)
_SERIES_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True, slots=True)
class Toggle(Payload):
    """Switch a subscription on or off: everything, or a section/topic by key or position;
    of the primary series, or of `series` (a series' subscription key, several series).
    Kind `series` switches a whole series on or off (/series)."""

    PREFIX: ClassVar[str] = "t"
    kind: ToggleKind
    key: str | None = None
    index: int | None = None
    series: str = ""

    @classmethod
    def of(cls, kind: ToggleKind, key: str, index: int, series: str = "") -> Toggle:
        by_key = cls(kind, key=key, series=series)
        if key and ":" not in key and _fits(by_key):
            return by_key
        return cls(kind, index=index, series=series)

    def fields(self) -> tuple[str, ...]:
        if self.kind == "series":
            return (_SERIES_MARK + self.series, _WHOLE_SERIES)
        within = (_SERIES_MARK + self.series,) if self.series else ()
        return (*within, *self._own_fields())

    def _own_fields(self) -> tuple[str, ...]:
        if self.kind == "all":
            return ("a",)
        letter = _TOGGLE_LETTERS[self.kind]
        if self.index is not None:
            return (f"{letter}{_INDEX}", str(self.index))
        return (letter, self.key or "")

    @classmethod
    def parse(cls, fields: list[str]) -> Toggle | None:
        if fields and fields[0].startswith(_SERIES_MARK):
            series = fields[0].removeprefix(_SERIES_MARK)
            if series and not _SERIES_KEY.fullmatch(series):
                return None
            if fields[1:] == [_WHOLE_SERIES]:
                return cls("series", series=series)
            found = cls._parse_own(fields[1:])
            return None if found is None else replace(found, series=series)
        return cls._parse_own(fields)

    @classmethod
    def _parse_own(cls, fields: list[str]) -> Toggle | None:
        if fields == ["a"]:
            return cls("all")
        if len(fields) != 2:
            return None
        code, token = fields
        if code.endswith(_INDEX) and code[:-1] in _TOGGLE_CODES:
            index = number_or_none(token, 0, MAX_INDEX)
            return None if index is None else cls(_TOGGLE_CODES[code[:-1]], index=index)
        kind = _TOGGLE_CODES.get(code)
        return None if kind is None or not token else cls(kind, key=token)


Format = Literal["full", "digest"]
Language = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class SettingChoice(Payload):
    """One /settings button: exactly one of format, language or paused."""

    PREFIX: ClassVar[str] = "g"
    format: Format | None = None
    language: Language | None = None
    paused: bool | None = None

    def fields(self) -> tuple[str, ...]:
        if self.format is not None:
            return ("f", self.format)
        if self.language is not None:
            return ("l", self.language)
        return ("p", "1" if self.paused else "0")

    @classmethod
    def parse(cls, fields: list[str]) -> SettingChoice | None:
        match fields:
            case ["f", ("full" | "digest") as fmt]:
                return cls(format=fmt)
            case ["l", ("zh" | "en") as lang]:
                return cls(language=lang)
            case ["p", ("0" | "1") as flag]:
                return cls(paused=flag == "1")
        return None


# --- registry -----------------------------------------------------------------------

PAYLOADS: Final[tuple[type[Payload], ...]] = (
    OpenIssue,
    IssuePart,
    IssueList,
    SearchMore,
    Toggle,
    SettingChoice,
)
_BY_PREFIX: Final = {kind.PREFIX: kind for kind in PAYLOADS}
if len(_BY_PREFIX) != len(PAYLOADS) or any(":" in p for p in _BY_PREFIX):
    raise ValueError("payload prefixes must be distinct and free of ':'")


def _fits(payload: Payload) -> bool:
    return len(":".join((payload.PREFIX, *payload.fields())).encode()) <= CALLBACK_DATA_MAX_BYTES


def _plain_key(key: str) -> bool:
    """A key that decodes back to itself (not `*`, not `#…`, no field separator)."""
    return bool(key) and ":" not in key and key != _WHOLE and not key.startswith(_INDEX)
