"""How a briefing series writes its issues: a `Layout` value the parser is driven by.

A layout is plain frozen data (strings, tuples, booleans), so a configuration can build
one, a series can hold one and two series can share one. It says:

- the issue key: `key = "date"` (an ISO date in the H1 `(2020-11-30)`, in the file
  name or on a labelled line before the first section, `Published 2020-11-30` as
  `date_labels` say, as `date_from` orders: a date in prose is never the key) or
  `key = "number"` (`第 300 期`, `#300`, `issue-300.md`, found by the `title_number` /
  `name_number` patterns, each with a group named `n`: the number written first wins); a
  numbered issue takes a date too when `date_from` finds one, and goes without otherwise.
- sections: `sections = "named"` (`##` headings resolved through the taxonomy plus
  `section_names`; an unknown heading is kept under a generated key and warned about),
  `"free"` (every `##` heading is a section, no warning) or `"flat"` (no sections: every
  entry goes into one section keyed `flat_section`); `navigation_headings` are skipped,
  `cover_headings` (a cover image, a banner) are kept as issue notes, not sections (in a
  flat layout a navigation heading after the first entry leaves out what is under it up
  to the next heading of its level).
- entries: which lines start one (`entries`: `"bullet"` for `- [title](url)`,
  `"numbered"` for `1、[title](url)` and `**1、Title**`, `"heading"` for
  `### [title](url)`; when bullets are entries too, only a `###` holding a link is one:
  a plain `### Official` groups the bullets under it; inside an entry only a marker of its
  own style opens the next, so a `1.` or `-` list after `1、[title](url)` is its summary),
  and the summary (`summary = "line"`: indented or `摘要：`/`Summary:` lines after the item;
  `"paragraphs"`: every paragraph up to the next entry; `"none"`: only link lines belong to
  the entry, other text is a note). `images = "links"` lifts an image line (`![](url)`,
  `[![](img)](url)`) into the entry's links; `"inline"` keeps it in the summary markdown.
- the title: the `# ` line, or without one before the first section the `title:` of YAML
  front matter (`date:` there is a date source, `date_from = [..., "front_matter"]`).
- front matter: `intro = "labelled"` (a `导读：` paragraph, per `intro_labels`) or
  `"paragraphs"` (every paragraph before the first section), `boilerplate` (regular
  expressions: matching lines are left out everywhere and reported, never silently), and
  `footer_after_rule` (a `----` rule ends the content; what follows is the footer).

The presets are in `briefings.presets`; `briefings.layout_config` reads one from TOML data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from briefings.errors import clip, quoted
from briefings.regex_safety import exponential_risk

KeyKind = Literal["date", "number"]
DateSource = Literal["title", "front_matter", "name", "text"]
SectionMode = Literal["named", "free", "flat"]
EntryStyle = Literal["bullet", "numbered", "heading"]
SummaryMode = Literal["line", "paragraphs", "none"]
ImageMode = Literal["inline", "links"]
IntroMode = Literal["labelled", "paragraphs"]

KEY_KINDS: Final = frozenset(get_args(KeyKind))
DATE_SOURCES: Final = frozenset(get_args(DateSource))
SECTION_MODES: Final = frozenset(get_args(SectionMode))
ENTRY_STYLES: Final = frozenset(get_args(EntryStyle))
SUMMARY_MODES: Final = frozenset(get_args(SummaryMode))
IMAGE_MODES: Final = frozenset(get_args(ImageMode))
INTRO_MODES: Final = frozenset(get_args(IntroMode))
MAX_NUMBER_DIGITS: Final = 6  # an issue number longer than this is a typo or a date
SECTION_KEY: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class LayoutError(ValueError):
    """A layout value that cannot work; the message names the field (`layout.boilerplate`)."""


@dataclass(frozen=True, slots=True)
class Layout:
    name: str = "embedded-ai"
    key: KeyKind = "date"
    date_from: tuple[DateSource, ...] = ("title",)
    # what starts a line whose date is the issue's, for date_from "text" (`Published`)
    date_labels: tuple[str, ...] = ("发布日期", "日期", "Published", "Date")
    title_number: tuple[str, ...] = ()
    name_number: tuple[str, ...] = ()
    sections: SectionMode = "named"
    # heading as written -> section key, on top of the taxonomy's names (pairs: hashable)
    section_names: tuple[tuple[str, str], ...] = ()
    navigation_headings: tuple[str, ...] = ("往期回顾",)
    cover_headings: tuple[str, ...] = ()
    flat_section: str = "items"
    entries: tuple[EntryStyle, ...] = ("bullet",)
    summary: SummaryMode = "line"
    summary_labels: tuple[str, ...] = ("摘要",)
    images: ImageMode = "inline"
    intro: IntroMode = "labelled"
    intro_labels: tuple[str, ...] = ("导读",)
    boilerplate: tuple[str, ...] = ()
    footer_after_rule: bool = True

    def __post_init__(self) -> None:
        check_layout(self)


def _enum(field: str, value: object, allowed: frozenset[str]) -> None:
    if value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise LayoutError(f"layout.{field}: {clip(repr(value))} is not one of {choices}")


def _patterns(field: str, patterns: tuple[str, ...], *, group: str | None = None) -> None:
    for pattern in patterns:
        try:
            compiled = re.compile(pattern)
        # OverflowError: a repeat count past what `re` can hold (`a{4294967296}`);
        # RecursionError: groups nested deeper than its parser goes
        except (re.error, OverflowError, RecursionError) as exc:
            raise LayoutError(
                f"layout.{field}: bad regular expression {quoted(pattern)}: {exc}"
            ) from None
        risk = exponential_risk(pattern)
        if risk:  # `re` cannot be interrupted: one hostile line would hang the parser
            raise LayoutError(
                f"layout.{field}: {quoted(pattern)}: nested repetition can take "
                f"exponential time: {risk}"
            )
        if group and group not in compiled.groupindex:
            raise LayoutError(f"layout.{field}: {quoted(pattern)} has no group (?P<{group}>...)")
        if group and not _digits_only(pattern, group):
            raise LayoutError(
                f"layout.{field}: {quoted(pattern)}: the group (?P<{group}>...) must match "
                rf"digits only, as (?P<{group}>\d+) does"
            )
        if compiled.match(""):  # would match every line or every title
            raise LayoutError(f"layout.{field}: {quoted(pattern)} matches an empty line")


def _digits_only(pattern: str, group: str) -> bool:
    """Whether `group` of `pattern` matches one digit or more and nothing else.

    Read from the parse tree the `re` module builds (a private module, hence the guard):
    `(?P<n>\\w+)` in a number pattern would pass `# Issue abc` on to int() and fail
    every file at ingest; refused at load instead, where the curator reads the error.
    """
    try:
        from re import _constants as ops
        from re import _parser as sre
    except ImportError:  # pragma: no cover - another Python: the parser checks each file
        return True
    tree = sre.parse(pattern)
    wanted = tree.state.groupdict[group]
    found = _group_node(tree, wanted, ops)
    if found is None:  # pragma: no cover - a named group is always in its tree
        return True
    return found.getwidth()[0] > 0 and _only_digits(found, ops)


def _group_node(tree: Any, wanted: int, ops: Any) -> Any:
    for op, av in tree:
        children = _children(op, av, ops)
        if op is ops.SUBPATTERN and av[0] == wanted:
            return av[3]
        for child in children:
            found = _group_node(child, wanted, ops)
            if found is not None:
                return found
    return None


def _children(op: Any, av: Any, ops: Any) -> list[Any]:
    if op is ops.SUBPATTERN:
        return [av[3]]
    if op in (ops.MAX_REPEAT, ops.MIN_REPEAT, getattr(ops, "POSSESSIVE_REPEAT", None)):
        return [av[2]]
    if op is ops.BRANCH:
        return list(av[1])
    if op in (ops.ASSERT, ops.ASSERT_NOT):
        return [av[1]]
    if op is getattr(ops, "ATOMIC_GROUP", None):
        return [av]
    if op is ops.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]
    return []


def _only_digits(tree: Any, ops: Any) -> bool:
    """Every character `tree` consumes is a digit (lookarounds and anchors consume none)."""
    for op, av in tree:
        if op in (ops.AT, ops.ASSERT, ops.ASSERT_NOT):
            continue
        if op is ops.LITERAL:
            if not chr(av).isdecimal():
                return False
        elif op is ops.IN:
            if not all(_digit_item(item_op, item_av, ops) for item_op, item_av in av):
                return False
        elif op is ops.GROUPREF_EXISTS:
            return False
        else:
            children = _children(op, av, ops)
            if not children or not all(_only_digits(child, ops) for child in children):
                return False
    return True


def _digit_item(op: Any, av: Any, ops: Any) -> bool:
    if op is ops.LITERAL:
        return chr(av).isdecimal()
    if op is ops.RANGE:
        low, high = av  # `[0-9]`, `[０-９]`: a short run of digits only
        return high - low < 100 and all(chr(c).isdecimal() for c in range(low, high + 1))
    return op is ops.CATEGORY and av is ops.CATEGORY_DIGIT


def check_layout(layout: Layout) -> None:
    """Raise LayoutError naming the first field that cannot work."""
    _enum("key", layout.key, KEY_KINDS)
    for source in layout.date_from:
        _enum("date_from", source, DATE_SOURCES)
    if layout.key == "date" and not layout.date_from:
        raise LayoutError("layout.date_from: a series keyed by date needs somewhere to read it")
    if layout.key == "number" and not (layout.title_number or layout.name_number):
        raise LayoutError("layout.title_number: a numbered series needs a number pattern")
    _patterns("title_number", layout.title_number, group="n")
    _patterns("name_number", layout.name_number, group="n")
    _patterns("boilerplate", layout.boilerplate)
    _enum("sections", layout.sections, SECTION_MODES)
    for heading, key in layout.section_names:
        if not SECTION_KEY.match(key):
            message = (
                f"section key {quoted(key)} for {quoted(heading)} is not lower-case a-z, 0-9, '-'"
            )
            raise LayoutError(f"layout.section_names: {message}")
    if not SECTION_KEY.match(layout.flat_section):
        raise LayoutError(
            f"layout.flat_section: {quoted(layout.flat_section)} is not a section key"
        )
    if not layout.entries:
        raise LayoutError("layout.entries: at least one entry style")
    for style in layout.entries:
        _enum("entries", style, ENTRY_STYLES)
    _enum("summary", layout.summary, SUMMARY_MODES)
    _enum("images", layout.images, IMAGE_MODES)
    _enum("intro", layout.intro, INTRO_MODES)
    if "text" in layout.date_from and not layout.date_labels:
        raise LayoutError('layout.date_labels: date_from "text" reads only labelled lines')
    for field in ("summary_labels", "intro_labels", "date_labels"):
        if any(not label.strip() for label in getattr(layout, field)):
            raise LayoutError(f"layout.{field}: an empty label would match every line")
