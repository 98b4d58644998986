"""A `Layout` from configuration data: a preset named, then the fields it overrides.

    [layout]
    preset = "numbered-weekly"
    boilerplate = ["^本期由.*赞助", "^欢迎投稿"]
    section_names = { "论文" = "papers" }

The data is what a TOML reader returns (the caller reads the file: this stays pure).
Every error is a LayoutError naming the key (`layout.boilerplate[1]: bad regular
expression ...`), so a curator knows which line of the file to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any, Final

from briefings.errors import clip, quoted
from briefings.layout import Layout, LayoutError
from briefings.presets import EMBEDDED_AI, preset

_LISTS: Final = frozenset(
    {
        "date_from", "title_number", "name_number", "navigation_headings", "cover_headings",
        "entries", "summary_labels", "intro_labels", "date_labels", "boilerplate",
    }
)  # fmt: skip
_STRINGS: Final = frozenset({"key", "sections", "flat_section", "summary", "images", "intro"})
_BOOLS: Final = frozenset({"footer_after_rule"})
_FIELDS: Final = frozenset(f.name for f in fields(Layout)) - {"name"}
MAX_ITEMS: Final = 200  # a list longer than this is a mistake, not a layout
# and so is a longer string; it also bounds what checking a pattern costs at load
MAX_CHARS: Final = 1000


def _string(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise LayoutError(f"{where}: expected a string, got {type(value).__name__}")
    if len(value) > MAX_CHARS:
        raise LayoutError(f"{where}: {len(value)} characters, more than {MAX_CHARS}")
    return value


def _strings(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):  # `boilerplate = "x"` for `["x"]` is a common slip
        value = [value]
    if not isinstance(value, list | tuple):
        raise LayoutError(f"{where}: expected a list of strings, got {type(value).__name__}")
    if len(value) > MAX_ITEMS:
        raise LayoutError(f"{where}: {len(value)} items, more than {MAX_ITEMS}")
    return tuple(_string(f"{where}[{index}]", item) for index, item in enumerate(value))


def _section_names(where: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise LayoutError(f"{where}: expected a table of heading = key, got {type(value).__name__}")
    if len(value) > MAX_ITEMS:
        raise LayoutError(f"{where}: {len(value)} headings, more than {MAX_ITEMS}")
    return tuple(
        (_string(where, heading), _string(f"{where}.{heading}", key))
        for heading, key in value.items()
    )


def _field(where: str, name: str, value: object) -> object:
    if name in _LISTS:
        return _strings(where, value)
    if name in _STRINGS:
        return _string(where, value)
    if name in _BOOLS:
        if not isinstance(value, bool):
            raise LayoutError(f"{where}: expected true or false, got {clip(repr(value))}")
        return value
    return _section_names(where, value)


def _item_error(message: str, name: str, values: Mapping[str, Any]) -> str:
    """`layout.boilerplate: bad ... '(x'` -> `layout.boilerplate[1]: ...` when it can tell."""
    items = values.get(name)
    if isinstance(items, list | tuple):
        for index, item in enumerate(items):
            if isinstance(item, str) and quoted(item) in message:
                return message.replace(f"layout.{name}:", f"layout.{name}[{index}]:", 1)
    return message


def layout_from_mapping(data: Mapping[str, Any], *, table: str = "layout") -> Layout:
    """The layout `data` describes (see the module docstring); LayoutError naming the key.

    `preset` defaults to the Embedded AI layout; `name` names the result (default: the
    preset's name). `table` is how the caller names the table in messages.
    """
    if not isinstance(data, Mapping):
        raise LayoutError(f"{table}: expected a table, got {type(data).__name__}")
    unknown = sorted(set(data) - _FIELDS - {"preset", "name"})
    if unknown:
        known = ", ".join(sorted(_FIELDS | {"preset", "name"}))
        raise LayoutError(f"{table}.{unknown[0]}: unknown field; fields: {known}")
    base = EMBEDDED_AI
    if "preset" in data:
        try:
            base = preset(_string(f"{table}.preset", data["preset"]))
        except LayoutError as exc:
            raise LayoutError(str(exc).replace("layout.", f"{table}.", 1)) from None
    changes: dict[str, Any] = {
        name: _field(f"{table}.{name}", name, value)
        for name, value in data.items()
        if name in _FIELDS
    }
    changes["name"] = _string(f"{table}.name", data.get("name", base.name))
    try:
        return replace(base, **changes)
    except LayoutError as exc:
        message = str(exc)
        for name in changes:
            message = _item_error(message, name, data)
        raise LayoutError(message.replace("layout.", f"{table}.", 1)) from None
