"""Parse one briefing markdown text into an `Issue`: pure, text in, objects out.

Why a line parser instead of the `markdown` package: Python-Markdown renders
HTML and exposes no syntax tree with source line numbers, follows its own list
rules (nested lists need 4-space indents, lists need a blank line before them),
so the corpus' 2-space sub-lists and lazy `摘要：` lines would be mis-nested, and
it normalises away the source text we must keep. The briefing structure is
line-oriented (H1, `## ` sections, column-0 `- ` items, continuation lines), so
a careful line parser with a small balanced-bracket scanner for inline links is
exact, keeps line numbers for errors/warnings, and is fast. Markdown inside
fields (bold, `<font>`, images, links) is passed through unchanged; where
`markdown` fits is downstream: the corpus tests render every summary with it to
prove the line normalisation keeps inline links intact.

Other series write issues differently: `parse_with_layout` reads them as a `Layout` says
(briefings/layout.py: a number as key, free or no sections, numbered or `###` entries,
paragraph summaries, images as links, boilerplate left out). What follows is the
`embedded-ai` layout, the default of `parse_issue`; the other layouts change only the
rules they name, the machinery (links, titles, sources, arXiv ids, bounds) is shared.

Structure (decisions taken from the real corpus):
- Optional front matter between `---` fences; an unclosed fence is an error. Its
  `title:` is the title when no `# ` line comes before the first section, and its
  `date:` a date when the layout's `date_from` names "front_matter".
- H1 `# <name> (YYYY-MM-DD) <subtitle>` gives key and subtitle; the lines up to the
  first `## ` are the preamble: the first bold-only line is the tagline, a `> 导读：`
  blockquote (with its lazy continuation lines) is the intro, column-0 bullets
  are quick news, every other paragraph/blockquote is a note.
- Each `## ` starts a section, keyed through the taxonomy (unknown headings get
  `generated_section_key`). Headings in `navigation_headings` (default 往期回顾)
  are navigation: their body is skipped.
- A thematic break (`----`) ends the content: what follows up to the next `## `
  (editor, QR code, licence) is kept verbatim in `Issue.footer`.
- Every column-0 `- ` (or `* `/`+ `) item of a content section is one entry, even an
  empty one (a bare marker: placeholder title "(untitled)" and a warning).
  Lines after it belong to it: lazy lines and indented lines directly after, and
  after a blank line only indented lines, `摘要：` lines or `label：URL` lines. A
  column-0 paragraph after a blank line, a `>` blockquote or another heading is
  a section note (`Section.notes`), as in CommonMark where they end the list.
- Item line: leading `[tag]`s (an arXiv id such as `[2011.12289v1]` becomes
  `arxiv_id`; other tags like `[SysML 2019]` stay at the front of the title),
  then the main `[text](url)` or bare text, then trailing `[label](url)` /
  `[[label]](url)` extra links. When the line does not start with a link, the
  main link is the first link with an http(s) URL anywhere in it: emphasis
  around it (`**[T | S](url)**`) and in the text before it is dropped, an arXiv
  mark there (`arXiv:2101.00001`, `[2107.04829]`) becomes `arxiv_id`, and the
  rest of that text (`【重磅】`, `🔥`) stays at the front of the title, where the
  editor put it.
  Inside the link text, a leading `[2107.04829]` / `arXiv:2107.04829` is the arXiv
  id too. Link targets may be `<url with spaces>` (spaces become %20) and may
  carry a title (`(url "title")`). A main link whose target is not http(s), or
  link markup that cannot be resolved, keeps the entry with a warning.
  Emphasis around the whole text (`[**T | S**](url)`) is dropped; emphasis inside
  it is kept, like all inline markdown (renderers show titles as plain text).
  `text` is split into title and source on the LAST ` | ` (or `｜`, spaces
  optional): titles themselves contain pipes
  ("KDD 2019 | 自动探索特征组合 | 机器之心"), publishers never do. Without a pipe,
  a CJK `丨` separates only when the part after it is the shorter one
  ("算法丨 InfoQ" splits, "重磅丨依图造芯" does not).
- Continuation lines: a line that is only links - `label：URL` with a bare URL
  (`代码：https://…`, also inside a sub-list) or a list item / line made only of
  `[text](url)` - moves to `Entry.links` (label and URL keep all of its text) and
  leaves the summary. Everything else is the summary, in order: a leading
  `摘要：` is dropped, list items keep their relative indent, other lines are
  stripped, trailing two-space hard breaks are dropped and every "\n" in the
  summary is a line break (a blank line separates paragraphs).
- arXiv id: the leading tag, else an arxiv.org main URL, else the only arxiv.org
  link among the extra links.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Final, NoReturn
from urllib.parse import quote, urlsplit

from briefings.errors import BriefingParseError, quoted, warning_message
from briefings.layout import MAX_NUMBER_DIGITS, Layout
from briefings.model import Entry, Issue, IssueKey, Link, ParseWarning, Section, Series
from briefings.presets import EMBEDDED_AI
from briefings.rules import NUMBER_SPAN, Rules, compile_rules, labelled_date
from briefings.taxonomy import Taxonomy, generated_section_key, normalize_name, tag_issue

DEFAULT_NAVIGATION_HEADINGS: Final[frozenset[str]] = frozenset(EMBEDDED_AI.navigation_headings)
_UNTITLED: Final = "(untitled)"  # placeholder title of an item with no text at all
_IMAGE: Final = "image"  # label of an image kept as a link when it has no alt text

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*))?$")  # closing #s: see `_heading`
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^[-*+](?:[ \t]+(.*))?$")  # a bare marker is an (empty) item too
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])[ \t]+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT_MATTER_LINE = re.compile(r"^(?:[\w.-]+[ \t]*:|[ \t]|-[ \t]|#|$)")
_H1_DATE = re.compile(
    r"^(?P<name>.*?)(?<!\s)\s*[(（]\s*(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})\s*[)）]"
    r"\s*(?P<subtitle>.*)$"
)
_FRONT_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(?P<value>.*)|[ \t]*$)")
_FRONT_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")
FRONT_MATTER_DATES: Final = ("date", "published")  # front matter keys read as the date
_DIGIT_RUN = re.compile(r"\d*")
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_TAGLINE = re.compile(r"^(\*\*|__)(?P<text>.+)\1$")
# `(?<!\s)`: a match starts at the first space of a run only, so a long run of spaces is
# scanned once, not once per position (quadratic on a megabyte of spaces)
_PIPE = re.compile(r"(?<!\s)\s*[|｜]\s*")
_WEAK_PIPE = re.compile(r"(?<!\s)\s*丨\s*")  # CJK "丨" is sometimes typed as a pipe, sometimes not
_ARXIV_ID = r"\d{4}\.\d{4,5}(?:v\d+)?"
_ARXIV_TAG = re.compile(rf"^(?:arxiv\s*[:：]?\s*)?({_ARXIV_ID})$", re.IGNORECASE)
# an arXiv id written as a prefix: `[2107.04829]`, `[arXiv:2107.04829]`, `arXiv:2101.00001`
_ARXIV_MARK = re.compile(
    rf"\[\s*(?:arxiv\s*[:：]?\s*)?({_ARXIV_ID})\s*\]|(?<!\w)arxiv\s*[:：]?\s*({_ARXIV_ID})(?!\w)",
    re.IGNORECASE,
)
_ARXIV_URL = re.compile(rf"arxiv\.org/(?:abs|pdf)/({_ARXIV_ID})", re.IGNORECASE)
_WEB_URL = re.compile(r"^https?://\S", re.IGNORECASE)
_PREFIX_EMPHASIS = re.compile(r"\*+|~~+|(?<!\w)_+|_+(?!\w)")  # `_` inside words is text
_EMPHASIS_WRAP = re.compile(r"^([*_~]{1,3})(?=\S)(.*?\S)\1$", re.DOTALL)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_URL_CHARS = r"[^\s<>，。；！？、）】]+"
# `label：URL`, matched in two anchored parts split at the first URL (a label holding a
# URL is refused anyway): one regex over the whole line backtracks quadratically
_URL_START = re.compile(r"https?://")
_LABEL_HEAD = re.compile(r"(?P<label>[^\s：:].*?)(?<!\s)\s*[：:]\s*<?")
_URL_TAIL = re.compile(rf"(?P<url>https?://{_URL_CHARS})>?")
_BAD_LABEL = re.compile(r"^摘要|[，。；！？;]|https?://")
_BARE_URL = re.compile(r"<?(https?://[^\s<>()\[\]，。；！？、）】]+)>?")

# no `[` / `(` inside: scans from successive openers never overlap, so the search is linear
_ANY_LINK = re.compile(r"\[[^\[\]]*\]\([^()]*\)")
_BRACKET_TOKENS = {"[": re.compile(r"\\.|[\[\]]"), "(": re.compile(r"\\.|[()]")}
# a link target is told to be a web URL by its first characters; reading (or copying) every
# one of them for every candidate link would be quadratic on nested targets
URL_SPAN: Final = 2048
# a target whose `_clean_url` `_WEB_URL` matches, read in place: `https://x`, `< https://x >`
_WEB_TARGET = re.compile(r"\s*+(?:https?://\S|<\s*+https?://\s*+[^\s>][^>]*+>)", re.IGNORECASE)
_WHITE_SPACE = re.compile(r"\s")
_SPACES = re.compile(r"\s*")  # what str.strip() strips: `\s` is str.isspace() in `re`

Lines = list[tuple[int, str]]  # (1-based line number, text without newline)


# --------------------------------------------------------------------------- helpers


@dataclass
class _Ctx:
    path: str
    rules: Rules = field(default_factory=lambda: compile_rules(EMBEDDED_AI))
    warnings: list[ParseWarning] = field(default_factory=list)
    unmatched: list[tuple[int, str]] = field(default_factory=list)  # lines kept only as notes

    def warn(self, line: int, code: str, *, unfinished: bool = False, **fields: str) -> None:
        """Warning `code` of briefings.errors.WARNINGS; `fields` as its message quotes them."""
        message = warning_message(code, **fields)
        self.warnings.append(ParseWarning(self.path, line, message, unfinished))

    def fail(
        self, line: int, message: str, *, unfinished: bool = False, key: date | None = None
    ) -> NoReturn:
        if unfinished and key is None:
            named = _name_dates(self.path)
            key = next(iter(named)) if len(named) == 1 else None
        raise BriefingParseError(self.path, line, message, unfinished=unfinished, key=key)


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Caps checked on the drafts, before entries are built, so an oversized issue is cheap
    to refuse. `*_setting` is how the caller lets users raise a cap (named in the error);
    `max_section_entries` is a capacity of the archive, not a setting."""

    max_sections: int
    max_entries: int
    max_section_entries: int
    sections_setting: str = "max_sections"
    entries_setting: str = "max_entries"


def _line_of(text: str, index: int) -> int:
    return len(_LINE_BREAK.findall(text, 0, index)) + 1


def decode_briefing(data: bytes, path: str) -> str:
    """Decode file bytes as UTF-8 (BOM allowed) or raise BriefingParseError naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BriefingParseError(path, line, f"not UTF-8 text ({exc.reason})") from None


def _check_text(text: str, ctx: _Ctx) -> None:
    if not text.strip():
        ctx.fail(0, "empty file: an unfinished briefing?", unfinished=True)
    binary = _BINARY.search(text)
    if binary:
        ctx.fail(_line_of(text, binary.start()), "binary data (control/NUL byte): not a briefing")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        ctx.fail(_line_of(text, exc.start), "undecodable character (lone surrogate)")
    if "\ufffd" in text:
        ctx.warn(_line_of(text, text.index("\ufffd")), "bad_bytes")


def _heading(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading; an optional closing `#` sequence is dropped.

    Done with string methods, not a regex with a lazy group and trailing `[ \t]*`, which
    backtracks quadratically over a long run of spaces."""
    match = _HEADING.match(line)
    if not match:
        return None
    text = (match.group(2) or "").rstrip(" \t")
    body = text.rstrip("#")
    if body != text and (not body or body[-1] in " \t"):
        text = body
    return len(match.group(1)), text.strip()


def _skip_space(text: str, start: int) -> int:
    """The index of the first non-space of `text` from `start` (its length if none)."""
    found = _SPACES.match(text, start)
    return found.end() if found else start


def _close(text: str, start: int, opening: str, closing: str) -> int | None:
    """Index of the bracket closing the one at `start` (balanced, backslash escapes)."""
    depth = 0
    for token in _BRACKET_TOKENS[opening].finditer(text, start):
        if token.group() == opening:
            depth += 1
        elif token.group() == closing:
            depth -= 1
            if depth == 0:
                return token.start()
    return None


def _link_at(text: str, start: int = 0) -> tuple[str, str, int] | None:
    """A well-formed `[text](target)` at `start`: (text, target, end index) or None."""
    if text[start : start + 1] != "[":
        return None
    close = _close(text, start, "[", "]")
    if close is None or text[close + 1 : close + 2] != "(":
        return None
    end = _close(text, close + 1, "(", ")")
    if end is None:
        return None
    return text[start + 1 : close], text[close + 2 : end], end + 1


def _clean_url(target: str) -> str | None:
    """The destination of a link target, without an optional title: `(url "title")`.

    A CommonMark `<...>` destination may contain spaces; they are percent-encoded
    (tabs and other white space too) so the URL stays one usable token.
    """
    target = target.strip()
    if target.startswith("<") and ">" in target:
        inside = target[1 : target.index(">")].strip()
        url = _WHITE_SPACE.sub(lambda space: quote(space.group()), inside)
    else:
        url = (target.split() or [""])[0]
    return url or None


def _unwrap_label(text: str) -> str:
    label = text.strip()
    while label.startswith("[") and label.endswith("]"):
        label = label[1:-1].strip()
    return label


# --------------------------------------------------------------------------- item line


@dataclass
class _Head:
    title: str
    source: str | None = None
    url: str | None = None
    links: list[Link] = field(default_factory=list)
    arxiv_id: str | None = None
    leftover: str = ""
    needs_title: bool = False  # a linked image without alt text: the text after it names it


def _split_title(text: str, line: int, ctx: _Ctx) -> tuple[str, str | None]:
    text = text.strip()
    pipes = list(_PIPE.finditer(text)) or list(_WEAK_PIPE.finditer(text))
    if not pipes:
        return text, None
    last = pipes[-1]
    title, source = text[: last.start()].strip(), text[last.end() :].strip()
    if last.group().strip() == "丨" and len(source) >= len(title):
        return text, None  # "重磅丨依图造芯": a prefix, not a publisher
    if title and source:
        return title, source
    ctx.warn(line, "title_not_split", text=repr(text))
    return title or source or text, None


def _drop_unpaired(text: str) -> str:
    """`text` without brackets that have no partner: debris of broken link markup."""
    drop: set[int] = set()
    opened: dict[str, list[int]] = {"[": [], "(": []}
    for index, char in enumerate(text):
        if char in opened:
            opened[char].append(index)
        elif char in "])":
            stack = opened["[" if char == "]" else "("]
            if stack:
                stack.pop()
            else:
                drop.add(index)
    drop.update(index for stack in opened.values() for index in stack)
    return "".join(char for index, char in enumerate(text) if index not in drop)


def _salvage(text: str, line: int, ctx: _Ctx) -> tuple[str, str | None]:
    """Text and URL of an item whose link markup is broken."""
    found = _BARE_URL.search(text)
    if not found:
        return _drop_unpaired(text).strip(), None
    ctx.warn(line, "link_recovered")
    rest = _EMPTY_BRACKETS.sub("", text[: found.start()] + text[found.end() :])
    return _drop_unpaired(rest).strip(), found.group(1)


def _leading_tags(rest: str) -> tuple[list[str], str]:
    tags: list[str] = []
    at = 0  # an index, not `rest = rest[close:]`: copying the rest per tag is quadratic
    while rest.startswith("[", at):
        close = _close(rest, at, "[", "]")
        if close is None or rest[close + 1 : close + 2] == "(":
            break
        tags.append(rest[at + 1 : close].strip())
        at = _skip_space(rest, close + 1)
    return tags, rest[at:]


def _closers(text: str, opening: str) -> dict[int, int]:
    """Index of the bracket `_close(text, start, opening, ...)` finds, for every `start`
    holding `opening` that has one, in one pass.

    `_close` from each opener in turn rescans the rest of the text each time it finds no
    partner (`x[](x[](x[](...`): quadratic. Its depth from `start` reaches 0 at the first
    closer after `start` where the running depth of the whole text falls one below its
    value just after `start`; an escaped opener (`\\[`) counts there as `_close` counts it.
    """
    closing = "]" if opening == "[" else ")"
    waiting: dict[int, list[int]] = {}  # depth of the whole text -> openers closed there
    found: dict[int, int] = {}
    depth = 0
    for token in _BRACKET_TOKENS[opening].finditer(text):
        char = token.group()
        if char == opening:
            waiting.setdefault(depth, []).append(token.start())
            depth += 1
        elif char == closing:
            depth -= 1
            for start in waiting.pop(depth, ()):
                found[start] = token.start()
        elif char[1:] == opening:  # `\[`: `_close` started on its `[` counts it
            waiting.setdefault(depth - 1, []).append(token.start() + 1)
    return found


def _first_link(text: str) -> int | None:
    """Start of the first `[text](http(s) URL)` in `text`, else of the first well-formed link.

    Linear: the brackets are matched once for the whole text, and a target is judged by its
    first URL_SPAN characters, so nested targets (`[a](` * n) are not each read whole."""
    last = text.rfind("](")
    if last < 0:
        return None
    brackets, parens = _closers(text, "["), _closers(text, "(")
    fallback = None
    for bracket in re.finditer(r"(?<!!)\[", text):  # `![..](..)` is an image, not a link
        start = bracket.start()
        if start > last:
            break
        close = brackets.get(start)
        end = None if close is None else parens.get(close + 1)
        if close is None or end is None:
            continue
        if _WEB_TARGET.match(text, close + 2, min(end, close + 2 + URL_SPAN)):
            return start
        fallback = start if fallback is None else fallback
    return fallback


def _unwrap_link(rest: str) -> tuple[str, str]:
    """(prefix, rest from the main link on) for an item whose link is not at the start.

    `**[T | S](url)**`, `【重磅】[T | S](url)`, `🔥 [T | S](url)`: emphasis markers in
    the prefix and right after the link are markup and dropped; the prefix text is
    kept (it goes in front of the title), ending in a space when one separated it
    from the link.
    """
    start = None if rest.startswith("[") else _first_link(rest)
    found = None if start is None else _link_at(rest, start)
    if start is None or found is None:
        return "", rest
    raw = _PREFIX_EMPHASIS.sub("", rest[:start])
    prefix = raw.strip()
    if prefix and raw[-1:].isspace():
        prefix += " "
    end = found[2]
    return prefix, rest[start:end] + rest[end:].lstrip("*_~")


def _take_arxiv(text: str, *, anywhere: bool) -> tuple[str | None, str]:
    """An arXiv id marked in `text` (only at its start unless `anywhere`), and the rest."""
    found = _ARXIV_MARK.search(text) if anywhere else _ARXIV_MARK.match(text.lstrip())
    if found is None:
        return None, text
    if not anywhere:
        text = text.lstrip()
    before, after = text[: found.start()], text[found.end() :].lstrip()
    rest = f"{before.rstrip()} {after}" if before.strip() else after
    return found.group(1) or found.group(2), rest


def _unwrap_emphasis(text: str) -> str:
    """`**title | source**` -> `title | source`: emphasis around the whole text is markup."""
    text = text.strip()
    wrapped = _EMPHASIS_WRAP.match(text)
    if wrapped is None or wrapped.group(1) in wrapped.group(2):  # `*a* and *b*`: two spans
        return text
    return wrapped.group(2)


def _main_link(rest: str, line: int, ctx: _Ctx) -> tuple[str, str | None, str]:
    """(text, url, rest after the link) of the item's main link or bare text."""
    if not rest.startswith("["):
        if "http" in rest and not _ANY_LINK.search(rest):
            text, url = _salvage(rest, line, ctx)
            return text, url, ""
        return rest, None, ""
    close = _close(rest, 0, "[", "]")
    if close is None:
        ctx.warn(line, "unclosed_bracket", unfinished=True)
        text, url = _salvage(rest[1:], line, ctx)
        return text, url, ""
    end = _close(rest, close + 1, "(", ")")
    if end is None:
        ctx.warn(line, "unclosed_paren", unfinished=True)
        return rest[1:close], _clean_url(rest[close + 2 :]), ""
    url = _clean_url(rest[close + 2 : end])
    if url is None:
        ctx.warn(line, "empty_link", unfinished=True)
    return rest[1:close], url, rest[end + 1 :]


def _trailing_links(rest: str, line: int, ctx: _Ctx) -> tuple[list[Link], str]:
    links: list[Link] = []
    rest = rest.strip()
    at = 0  # an index into `rest`, which is never copied per link (quadratic)
    while at < len(rest):
        found = _link_at(rest, at)
        if found is None:
            ctx.warn(line, "text_after_links", text=repr(rest[at : at + 40]))
            return links, rest[at:]
        text, target, end = found
        url = _clean_url(target)
        if url:
            links.append(Link(_unwrap_label(text) or "链接", url))
        else:
            ctx.warn(line, "empty_extra_link", unfinished=True, text=repr(text))
        at = _skip_space(rest, end)
    return links, ""


def _arxiv_tags(tags: list[str]) -> tuple[str | None, list[str]]:
    """The arXiv id among bracketed tags, and the other tags."""
    arxiv = next((m.group(1) for t in tags if (m := _ARXIV_TAG.match(t))), None)
    return arxiv, [t for t in tags if not _ARXIV_TAG.match(t)]


def _link_title(link_text: str) -> tuple[str | None, list[str], str]:
    """arXiv id, other tags and the remaining text of `[[2107.04829] T | S]`-style link text."""
    tags, text = _leading_tags(_unwrap_emphasis(link_text))
    arxiv, tags = _arxiv_tags(tags)
    labelled, text = _take_arxiv(text, anywhere=False)
    return arxiv or labelled, tags, _unwrap_emphasis(text)


def _image_title(link_text: str, rest: str) -> tuple[str, Link, str] | None:
    """(title, image link, rest of the line) when the main link's text is an image.

    `[![alt](img)](url) text`: the alt text names the entry, else the text after the link
    up to the next link; the image is kept as a link of the entry, never dropped."""
    image = _image(link_text.strip())
    if image is None:
        return None
    alt, source = image
    if alt:
        return alt, Link(_IMAGE, source), rest
    rest = rest.strip()
    cut = _first_link(rest)
    text, rest = (rest, "") if cut is None else (rest[:cut], rest[cut:])
    return _unwrap_emphasis(text.strip().lstrip("：:|｜-–— ")), Link(_IMAGE, source), rest


def _parse_head(text: str, line: int, ctx: _Ctx) -> _Head:
    if not text.strip():
        ctx.warn(line, "empty_item", unfinished=True)
        return _Head(_UNTITLED)
    tags, rest = _leading_tags(text.strip())
    arxiv, tags = _arxiv_tags(tags)
    if not rest and tags:
        ctx.warn(line, "bracket_without_link", unfinished=True)
        rest = tags.pop()
    prefix, rest = _unwrap_link(rest)
    link_text, url, rest = _main_link(rest, line, ctx)
    pictured = _image_title(link_text, rest)
    if pictured is not None:
        return _pictured_head(pictured, url, prefix, tags, arxiv, line, ctx)
    links, leftover = _trailing_links(rest, line, ctx)
    inner_arxiv, inner_tags, link_text = _link_title(link_text)
    prefix_arxiv, prefix = _take_arxiv(prefix, anywhere=True)
    arxiv = arxiv or inner_arxiv or prefix_arxiv
    title, source = _split_title(link_text, line, ctx)
    title = " ".join([*(f"[{t}]" for t in [*tags, *inner_tags]), prefix + title]).strip()
    if url and not _WEB_URL.match(url):
        ctx.warn(line, "not_web_url", url=repr(url))
    if not title:
        ctx.warn(line, "no_title", unfinished=True)
        title = url or (f"[{arxiv}]" if arxiv else _UNTITLED)
    return _Head(title, source, url, links, arxiv, leftover)


def _pictured_head(
    pictured: tuple[str, Link, str],
    url: str | None,
    prefix: str,
    tags: list[str],
    arxiv: str | None,
    line: int,
    ctx: _Ctx,
) -> _Head:
    """The head of `[![alt](img)](url)`: named by the alt text or the text after the image
    (else, in `_build_entry`, by the paragraph after it), never by the image markdown."""
    title, image, rest = pictured
    links, leftover = _trailing_links(rest, line, ctx)
    named = " ".join([*(f"[{t}]" for t in tags), prefix + title]).strip()
    if url and not _WEB_URL.match(url):
        ctx.warn(line, "not_web_url", url=repr(url))
    return _Head(named, None, url, [image, *links], arxiv, leftover, needs_title=not title)


# --------------------------------------------------------------------------- entry body


def _labelled_url(text: str) -> tuple[str, str] | None:
    start = _URL_START.search(text)
    if start is None:
        return None
    head = _LABEL_HEAD.fullmatch(text, 0, start.start())
    tail = _URL_TAIL.fullmatch(text, start.start())
    if head is None or tail is None or _BAD_LABEL.search(head.group("label")):
        return None
    return head.group("label").strip(), tail.group("url")


def _image(text: str) -> tuple[str, str] | None:
    """(alt text, URL) of a whole `![alt](url)`, else None."""
    found = _link_at(text, 1) if text.startswith("![") else None
    url = _clean_url(found[1]) if found and found[2] == len(text) else None
    return (found[0].strip(), url) if found and url else None


def _lift_links(raw: str, *, images: bool = False) -> list[Link] | None:
    """The links of a continuation line made only of links, else None.

    With `images`, `![alt](url)` is a link too, and a linked image `[![alt](img)](url)`
    gives both: the layout keeps images as links rather than as summary markdown.
    """
    text = _LIST_ITEM.sub("", raw.strip(), count=1)
    labelled = _labelled_url(text)
    if labelled:
        return [Link(*labelled)]
    links: list[Link] = []
    at = 0  # an index into `text`, which is never copied per link (quadratic)
    while at < len(text):
        if images and text.startswith("!", at):
            found = _link_at(text, at + 1)
            image = _image(text[at : found[2]]) if found else None
            if found is None or image is None:
                return None
            links.append(Link(image[0] or _IMAGE, image[1]))
            at = _skip_space(text, found[2])
            continue
        found = _link_at(text, at)
        url = _clean_url(found[1]) if found else None
        if found is None or url is None:
            return None
        inner = _image(found[0].strip()) if images else None
        if inner:
            links.extend([Link(inner[0] or _IMAGE, url), Link(_IMAGE, inner[1])])
        else:
            links.append(Link(_unwrap_label(found[0]) or url, url))
        at = _skip_space(text, found[2])
    return links or None


def _summary_line(raw: str) -> str:
    expanded = raw.expandtabs(4).rstrip()
    content = expanded.strip()
    if _LIST_ITEM.match(content):
        indent = len(expanded) - len(expanded.lstrip())
        return " " * max(0, indent - 2) + content
    return content


def _split_body(body: Lines, rules: Rules) -> tuple[list[str], list[Link]]:
    lines: list[str] = []
    links: list[Link] = []
    fenced = False
    for _, raw in body:
        if _FENCE.match(raw):
            fenced = not fenced
        if fenced or _FENCE.match(raw):
            lines.append(raw[2:] if raw.startswith("  ") else raw.rstrip())
            continue
        lifted = _lift_links(raw, images=rules.layout.images == "links") if raw.strip() else None
        if lifted:
            links.extend(lifted)
        else:
            lines.append(_summary_line(raw))
    return lines, links


def _join_summary(lines: list[str], rules: Rules) -> str:
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return rules.summary_label.sub("", text.lstrip(), count=1)


def _arxiv_from_links(url: str | None, links: list[Link]) -> str | None:
    main = _ARXIV_URL.search(url or "")
    if main:
        return main.group(1)
    found = {m.group(1) for link in links if (m := _ARXIV_URL.search(link.url))}
    return found.pop() if len(found) == 1 else None


@dataclass
class _EntryDraft:
    line: int
    head: str
    style: str  # the marker that opened it (`Rules.entry_marker`)
    body: Lines = field(default_factory=list)
    fenced: bool = False


# a title taken from a paragraph is its first sentence, cut at this many characters
TITLE_SPAN: Final = 80
_SENTENCE_END = re.compile(r"[。！？!?]|\.(?=\s|$)")
_LINK_TEXT = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")  # a title shows a link's text
_LINK_LED = re.compile(r"^(?:\*\*|__)?\[(?!!\[)")  # `[title](url)`, `**[title](url)**`


def _first_paragraph(body: Lines, *, link_head: bool) -> int | None:
    """Index of the body line that names an entry whose item line does not: the first text
    line, past image and link-only lines (kept as links) - or, with `link_head`, a line
    that starts with a link (`[title](url)`), which then is the item line itself."""
    for index, (_, raw) in enumerate(body):
        stripped = raw.strip()
        if not stripped:
            continue
        if _FENCE.match(raw):
            return None
        if link_head and _LINK_LED.match(stripped):
            return index
        if _lift_links(raw, images=True) is None:
            return index
    return None


def _sentence_title(text: str) -> tuple[str, str | None]:
    """(title, what stays in the summary) for a paragraph line naming an entry: its first
    sentence when short and plain; cut or stripped of links it stays whole in the summary."""
    quote = text.startswith(">")
    text = re.sub(r"^>[ \t]?", "", text).strip()
    end = _SENTENCE_END.search(text)
    cut = end.end() if end else len(text)
    sentence, rest = text[:cut].strip(), text[cut:].strip()
    plain = _LINK_TEXT.sub(r"\1", sentence)
    if len(plain) > TITLE_SPAN or plain != sentence:
        title = plain if len(plain) <= TITLE_SPAN else plain[:TITLE_SPAN].rstrip() + "…"
        return _unwrap_emphasis(title), f"> {text}" if quote else text
    kept = (f"> {rest}" if quote else rest) if rest else None
    return _unwrap_emphasis(sentence), kept


def _named_by_paragraph(draft: _EntryDraft, ctx: _Ctx) -> tuple[_Head, Lines]:
    """The head and body of an entry whose marker stands alone (`1、` then paragraphs: a
    quote, a picture's caption): the first paragraph names it, the rest is its summary."""
    body = draft.body
    index = _first_paragraph(body, link_head=True)
    if index is None:
        pictured = _picture_name(body)
        return (_Head(pictured) if pictured else _parse_head("", draft.line, ctx)), body
    number, raw = body[index]
    if _LINK_LED.match(raw.strip()):
        return _parse_head(raw.strip(), number, ctx), body[:index] + body[index + 1 :]
    title, kept = _sentence_title(raw.strip())
    rest = [] if kept is None else [(number, kept)]
    return _Head(title), body[:index] + rest + body[index + 1 :]


def _url_name(url: str) -> str:
    """`example.org/photos/4` for `https://example.org/photos/4/`: a name for a picture."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path.rstrip('/')}"


def _picture_name(body: Lines) -> str | None:
    """A name for an entry of only images (`1、` then `![](img)`): the first one's alt text,
    else its address (the page a linked image opens); None when there is no image."""
    for _, raw in body:
        stripped = raw.strip()
        links = _lift_links(raw, images=True) if stripped.startswith(("![", "[![")) else None
        if links:
            label = links[0].label
            return label if label != _IMAGE else _url_name(links[0].url) or _IMAGE
    return None


def _untitled_picture(head: _Head, body: Lines) -> Lines:
    """Name an entry whose item line is an image without alt text: by the paragraph after
    it, else by the link's host and path."""
    index = _first_paragraph(body, link_head=False)
    if index is None:
        head.title = f"{head.title} {_url_name(head.url or '')}".strip() or _IMAGE
        return body
    number, raw = body[index]
    title, kept = _sentence_title(raw.strip())
    head.title = f"{head.title} {title}".strip()
    rest = [] if kept is None else [(number, kept)]
    return body[:index] + rest + body[index + 1 :]


def _build_entry(draft: _EntryDraft, position: int, ctx: _Ctx) -> Entry:
    body = draft.body
    if draft.style.startswith("numbered") and not draft.head.strip():
        head, body = _named_by_paragraph(draft, ctx)
    else:
        head = _parse_head(draft.head, draft.line, ctx)
    if head.needs_title:
        body = _untitled_picture(head, body)
    lines, lifted = _split_body(body, ctx.rules)
    if head.leftover:
        lines.insert(0, head.leftover)
    links = [*head.links, *lifted]
    return Entry(
        position=position,
        title=head.title,
        source=head.source,
        url=head.url,
        summary=_join_summary(lines, ctx.rules),
        links=tuple(links),
        arxiv_id=head.arxiv_id or _arxiv_from_links(head.url, links),
        line=draft.line,
    )


# --------------------------------------------------------------------------- body


@dataclass
class _SectionDraft:
    line: int
    heading: str
    navigation: bool
    cover: bool = False  # a cover image or banner: kept with the issue's notes
    entries: list[_EntryDraft] = field(default_factory=list)
    notes: list[list[str]] = field(default_factory=list)

    @property
    def content(self) -> bool:
        return not (self.navigation or self.cover)


class _BodyParser:
    """Feeds the lines after the preamble into section/entry/note drafts."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        self.rules = ctx.rules
        self.sections: list[_SectionDraft] = []
        self.footer: list[str] = []
        self.cover: list[str] = []
        self.entry: _EntryDraft | None = None
        self.note: list[str] | None = None  # open note block (paragraph/blockquote)
        self.in_footer = False
        self.blank = False
        self.flat: _SectionDraft | None = None  # a flat layout's one content section
        self.aside = 0  # level of the navigation heading a flat layout is under

    @property
    def current(self) -> _SectionDraft:
        """The section lines go to: the last one, or a flat layout's entries again after a
        navigation part."""
        return self.flat if self.flat is not None and not self.aside else self.sections[-1]

    def feed(self, number: int, raw: str) -> None:
        line = raw.rstrip()
        heading = _heading(line)
        if heading and self._switches_part(number, heading):
            return  # even inside a fence: an unclosed fence must not eat sections
        if self.entry and self.entry.fenced:
            self._continue_entry(number, raw)
        elif self.in_footer:
            self.footer.append(line)
        elif _RULE.match(line):
            if self.rules.layout.footer_after_rule:
                self._close()
                self.in_footer = True
            else:  # a separator between sections or entries, nothing more
                self.blank, self.note = True, None
        elif self.current.cover:
            self.cover.append(line)
        elif not self.current.navigation:
            self._feed_content(number, raw, heading)

    def _feed_content(self, number: int, raw: str, heading: tuple[int, str] | None) -> None:
        line = raw.rstrip()
        marker = self._entry_marker(line, heading)
        if not line.strip():
            self.blank, self.note = True, None
        elif marker is not None:
            self._close()
            self.entry = _EntryDraft(number, marker[1], marker[0])
            self.current.entries.append(self.entry)
        elif heading or (line.startswith(">") and not self._quote_continues()):
            self._add_note(number, line, new_block=bool(heading) or not self._in_quote())
        elif self.entry and self._continues_entry(raw):
            self._continue_entry(number, raw)
        else:
            self._add_note(number, line.strip(), new_block=self.note is None)

    def _entry_marker(self, line: str, heading: tuple[int, str] | None) -> tuple[str, str] | None:
        """(style, item text) when `line` opens an entry: inside an entry, only a marker of
        its own style (or a `###` entry heading) does; another list style is its summary."""
        if not line.strip():
            return None
        inside = self.entry.style if self.entry else None
        return self.rules.entry_marker(line, heading, inside=inside)

    def _switches_part(self, number: int, heading: tuple[int, str]) -> bool:
        """Whether `heading` started a section (a `##`), or switched parts of a flat layout."""
        if not self.rules.flat:
            if heading[0] == 2:
                self._start_section(number, heading[1])
            return heading[0] == 2
        return self._flat_heading(number, heading)

    def _flat_heading(self, number: int, heading: tuple[int, str]) -> bool:
        """In a flat layout, whether `heading` switched between the entries and a navigation
        part (`## 往期推荐`): it is left out up to the next heading of its level or above,
        as a sectioned layout leaves out its section. Not a cover heading: with no sections,
        nothing but a heading would end the cover, and the entries after it would be lost."""
        if normalize_name(heading[1]) in self.rules.navigation:
            self.aside = heading[0]
            self._start_section(number, heading[1])
            return True
        if self.aside and heading[0] <= self.aside:
            self._close()
            self.aside = 0
        return False

    def _quote_continues(self) -> bool:
        return self.entry is not None and self.rules.layout.summary == "paragraphs"

    def _continues_entry(self, raw: str) -> bool:
        summary = self.rules.layout.summary
        images = self.rules.layout.images == "links"
        if summary == "paragraphs":
            return True
        if summary == "none":
            return bool(_lift_links(raw, images=images))
        if not self.blank:
            return True
        stripped = raw.strip()
        return (
            raw.startswith("  ")
            or bool(self.rules.summary_label.match(stripped))
            or bool(_lift_links(raw, images=images))
        )

    def _continue_entry(self, number: int, raw: str) -> None:
        assert self.entry is not None
        if self.blank and self.entry.body:
            self.entry.body.append((number, ""))
        self.entry.body.append((number, raw))
        if _FENCE.match(raw):
            self.entry.fenced = not self.entry.fenced
        self.blank = False

    def _in_quote(self) -> bool:
        return bool(self.note and self.note[0].startswith(">"))

    def _add_note(self, number: int, line: str, *, new_block: bool) -> None:
        self.entry = None
        self.blank = False
        if new_block or self.note is None:
            self.note = []
            self.current.notes.append(self.note)
        self.note.append(line)
        self.ctx.unmatched.append((number, line))

    def _close(self) -> None:
        self.entry, self.note, self.blank = None, None, False

    def start_flat(self, number: int) -> None:
        self.flat = _SectionDraft(number, "", navigation=False)
        self.sections.append(self.flat)

    def _start_section(self, number: int, heading: str) -> None:
        self._close()
        self.in_footer = False
        name = normalize_name(heading)
        navigation = name in self.rules.navigation
        cover = name in self.rules.cover
        self.sections.append(_SectionDraft(number, heading, navigation, cover))


def _note_text(lines: list[str]) -> str:
    if lines and lines[0].startswith(">"):
        lines = [re.sub(r"^>[ \t]?", "", line) if line.startswith(">") else line for line in lines]
    return "\n".join(line.rstrip() for line in lines).strip()


def _section_key(heading: str, taxonomy: Taxonomy, used: set[str]) -> tuple[str, bool]:
    known = taxonomy.section_key(heading)
    key = known or generated_section_key(heading)
    base, counter = key, 2
    while key in used:
        key, counter = f"{base}-{counter}", counter + 1
    used.add(key)
    return key, known is not None and key == base


def _build_sections(drafts: list[_SectionDraft], taxonomy: Taxonomy, ctx: _Ctx) -> list[Section]:
    sections: list[Section] = []
    used: set[str] = set()
    layout = ctx.rules.layout
    for draft in (d for d in drafts if d.content):
        if layout.sections == "flat":
            key, known = layout.flat_section, True
        else:
            key, known = _section_key(draft.heading, taxonomy, used)
        if not known and layout.sections == "named":
            heading = repr(draft.heading)
            ctx.warn(draft.line, "unknown_section", heading=heading, section_key=repr(key))
        if not draft.entries:
            # a free section of prose (`## 本周话题`) is content; an empty one is a skeleton
            unfinished = layout.sections == "named" or not draft.notes
            heading = repr(draft.heading)
            ctx.warn(draft.line, "empty_section", unfinished=unfinished, heading=heading)
        entries = tuple(_build_entry(e, i, ctx) for i, e in enumerate(draft.entries))
        notes = tuple(t for t in (_note_text(n) for n in draft.notes) if t)
        sections.append(Section(key, draft.heading, len(sections), entries, notes))
    return sections


# --------------------------------------------------------------------------- preamble


@dataclass
class _Preamble:
    rules: Rules
    unmatched: list[tuple[int, str]]
    tagline: str = ""
    intro: list[str] = field(default_factory=list)
    quick_news: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_block(self, kind: str, lines: Lines) -> None:
        text = "\n".join(line for _, line in lines).strip()
        if not text:
            return
        label = self.rules.intro_label
        if kind != "bullet" and label.match(text):
            self.intro.append(label.sub("", text, count=1))
        elif kind == "bullet":
            self.quick_news.append(text)
        elif self.rules.layout.intro == "paragraphs" and not _image(text):
            self.intro.append(text)
        else:
            self.notes.append(text)
            self.unmatched.extend((number, line) for number, line in lines if line.strip())


def _parse_preamble(lines: Lines, ctx: _Ctx) -> _Preamble:
    result = _Preamble(ctx.rules, ctx.unmatched)
    kind, block = "", []
    for number, raw in lines:
        line = raw.rstrip()
        stripped = line.strip()
        bullet = _BULLET.match(line)
        tagline = _TAGLINE.match(stripped)
        if not stripped or _RULE.match(line):
            result.add_block(kind, block)
            kind, block = "", []
        elif tagline and not block and not result.tagline:
            result.tagline = tagline.group("text").strip()
        elif stripped.startswith(">"):
            if kind != "quote":
                result.add_block(kind, block)
                kind, block = "quote", []
            block.append((number, re.sub(r"^>[ \t]?", "", stripped)))
        elif bullet:
            result.add_block(kind, block)
            kind, block = "bullet", [(number, (bullet.group(1) or "").strip())]
        else:
            kind = kind or "para"
            block.append((number, stripped))
    result.add_block(kind, block)
    return result


# --------------------------------------------------------------------------- document


def _split_lines(text: str) -> Lines:
    return list(enumerate(_LINE_BREAK.split(text.removeprefix("\ufeff")), start=1))


def _front_matter(lines: Lines, ctx: _Ctx) -> tuple[Lines, Lines]:
    """The lines between the `---` fences (none without front matter), and the rest."""
    first = next((i for i, (_, raw) in enumerate(lines) if raw.strip()), None)
    if first is None or lines[first][1].rstrip() != "---":
        return [], lines
    start = first + 1
    for index in range(start, len(lines)):
        number, raw = lines[index]
        if raw.rstrip() in ("---", "..."):
            return lines[start:index], lines[index + 1 :]
        heading = _heading(raw.rstrip())
        if heading and heading[0] == 1 and _looks_like_title(heading[1], ctx.rules):
            ctx.fail(number, f"front matter opened at line {lines[first][0]} is not closed")
        if not _FRONT_MATTER_LINE.match(raw):
            ctx.fail(number, f"front matter opened at line {lines[first][0]} is broken here")
    ctx.fail(lines[first][0], "front matter '---' is never closed")


def _front_fields(lines: Lines) -> dict[str, tuple[int, str]]:
    """Top-level `key: value` pairs of YAML-ish front matter: key -> (line, value).

    Only what a title and a date need, without a YAML library: a quoted value is unquoted,
    a block scalar (`title: >`) or an empty value is no value, nested keys are not read.
    """
    fields: dict[str, tuple[int, str]] = {}
    for number, raw in lines:
        found = _FRONT_FIELD.match(raw)
        if not found:
            continue
        value = (found["value"] or "").strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].strip()
        if value and value not in ("|", ">", "|-", ">-"):
            fields.setdefault(found["key"].lower(), (number, value))
    return fields


def _front_date(fields: dict[str, tuple[int, str]], ctx: _Ctx) -> date | None:
    """The front matter's `date:` (or `published:`): `2026-11-20`, `2026-11-20 09:00 +0800`."""
    for name in FRONT_MATTER_DATES:
        if name not in fields:
            continue
        number, value = fields[name]
        found = _FRONT_DATE.match(value)
        if found is None:
            continue
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError as exc:
            ctx.fail(number, f"front matter {name}: is not a calendar date: {exc}")
    return None


def _looks_like_title(text: str, rules: Rules) -> bool:
    head = text[:NUMBER_SPAN]
    return bool(_H1_DATE.match(text) or any(p.search(head) for p in rules.title_number))


@dataclass
class _Title:
    line: int
    text: str
    key: date | None
    subtitle: str
    number: int | None = None


def _find_title(
    lines: Lines, front_title: tuple[int, str] | None, ctx: _Ctx
) -> tuple[tuple[int, str], Lines, Lines]:
    """(line, text) of the H1, the lines before it, and the lines after it.

    Without a `# ` line before the first section, the front matter's `title:` is the title
    (static-site newsletters write it there): then every line is after it.
    """
    shape = "# title (YYYY-MM-DD)" if ctx.rules.layout.key == "date" else "# title"
    for index, (number, raw) in enumerate(lines):
        heading = _heading(raw.rstrip())
        if heading is None:
            continue
        if heading[0] == 1:
            return (number, heading[1]), lines[:index], lines[index + 1 :]
        if front_title is None:
            ctx.fail(number, f"no '{shape}' line before the first section")
        break
    if front_title is not None:
        return front_title, [], lines
    ctx.fail(lines[0][0] if lines else 1, f"no '{shape}' line: not a briefing")


def _title_date(number: int, text: str, ctx: _Ctx) -> tuple[date | None, str]:
    """The H1's `(YYYY-MM-DD)` and the subtitle after it."""
    match = _H1_DATE.match(text)
    if not match:
        return None, ""
    try:
        key = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError as exc:
        ctx.fail(number, f"H1 date is not a calendar date: {exc}")
    return key, match["subtitle"].strip()


def _text_date(lines: Lines, labels: tuple[str, ...]) -> date | None:
    found = labelled_date([raw for _, raw in lines], labels)
    try:
        return date(*found) if found else None
    except ValueError:
        return None


def _issue_date(
    number: int, text: str, preamble: Lines, front: dict[str, tuple[int, str]], ctx: _Ctx
) -> tuple[date | None, str]:
    """The issue date from the places the layout names, in its order, and the H1 subtitle."""
    sources = ctx.rules.layout.date_from
    in_title, subtitle = _title_date(number, text, ctx) if "title" in sources else (None, "")
    for source in sources:
        if source == "title":
            found = in_title
        elif source == "name":
            named = _name_dates(ctx.path)
            found = next(iter(named)) if len(named) == 1 else None
        elif source == "front_matter":
            found = _front_date(front, ctx)
        else:
            found = _text_date(preamble, ctx.rules.layout.date_labels)
        if found:
            return found, subtitle
    return None, subtitle


def _earliest(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    """The match whose number comes first in `text`, whichever pattern found it.

    The issue's own number leads its title (`This Week in X 301: C# 12 lands`,
    `Issue 42 — from #1 to #100`); a number further on belongs to the subtitle, so the
    order of the patterns must not decide.
    """
    best: re.Match[str] | None = None
    for pattern in patterns:
        found = pattern.search(text)
        if found and (best is None or _number_at(found) < _number_at(best)):
            best = found
    return best


def _number_at(found: re.Match[str]) -> int:
    start = found.start("n")
    return start if start >= 0 else found.start()


def _read_number(found: re.Match[str] | None, field: str, line: int, ctx: _Ctx) -> str | None:
    """The digits `found` holds; a clear error for the file when its group is no number.

    Layouts refuse such a group at load (briefings.layout); this guards a pattern that
    check could not read, so one file fails with a message, not ingest with a ValueError.
    """
    if found is None:
        return None
    digits = found["n"] or ""
    if not digits.isdecimal():
        ctx.fail(
            line,
            f"layout.{field} {quoted(found.re.pattern)} found {quoted(digits)}, not a number: "
            r"its group (?P<n>...) must match digits only, as (?P<n>\d+) does",
        )
    return digits


def _issue_number(number: int, text: str, ctx: _Ctx) -> int | None:
    """The issue number of the H1 or the file name; they must agree when both tell."""
    in_head = _earliest(ctx.rules.title_number, text[:NUMBER_SPAN])
    title_digits = _read_number(in_head, "title_number", number, ctx)
    if in_head is not None and title_digits and in_head.end("n") == NUMBER_SPAN:
        # the head cut a number: its digits go on, and the error below counts them all
        run = _DIGIT_RUN.match(text, NUMBER_SPAN)
        title_digits += run.group() if run else ""
    named = _earliest(ctx.rules.name_number, _file_name(ctx.path))
    name_digits = _read_number(named, "name_number", number, ctx)
    if title_digits is not None and name_digits and len(name_digits) > MAX_NUMBER_DIGITS:
        name_digits = None  # `20261120.md`: a date-like name says nothing against the H1
    for digits, where in ((title_digits, "the H1"), (name_digits, "the file name")):
        if digits is not None and len(digits) > MAX_NUMBER_DIGITS:
            ctx.fail(
                number,
                f"the issue number {quoted(digits)} in {where} has {len(digits)} digits, "
                f"more than {MAX_NUMBER_DIGITS}: a typo?",
            )
    in_title = int(title_digits) if title_digits is not None else None
    in_name = int(name_digits) if name_digits is not None else None
    if in_title is not None and in_name is not None and in_title != in_name:
        ctx.fail(
            number,
            f"the file name says #{in_name} but the H1 says #{in_title}: "
            "fix the H1 or rename the file (not archived, so no issue is overwritten)",
        )
    return in_title if in_title is not None else in_name


def _parse_title(
    number: int, text: str, preamble: Lines, front: dict[str, tuple[int, str]], ctx: _Ctx
) -> _Title:
    layout = ctx.rules.layout
    key, subtitle = _issue_date(number, text, preamble, front, ctx)
    issue_number = _issue_number(number, text, ctx) if layout.key == "number" else None
    if layout.key == "number" and issue_number is None:
        ctx.fail(number, f"no issue number in the H1 {quoted(text)} or the file name")
    if layout.key == "date" and key is None:
        if layout.date_from == ("title",):
            ctx.fail(number, f"H1 {quoted(text)} has no issue date '(YYYY-MM-DD)'")
        places = ", ".join(layout.date_from)
        ctx.fail(number, f"no issue date (YYYY-MM-DD) in the {places}")
    return _Title(number, text, key, subtitle, issue_number)


def _file_name(path: str) -> str:
    """The last segment of a path or URL, without a URL's query and fragment."""
    if "://" in path:
        path = path.split("?", 1)[0].split("#", 1)[0]
    return re.split(r"[/\\]", path)[-1]


def _name_dates(path: str) -> set[date]:
    """Calendar dates written in the last segment of a path or URL (`2020-11-30.md`)."""
    found = set()
    for match in _NAME_DATE.finditer(_file_name(path)):
        try:
            found.add(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            continue  # `2020-13-45` is not a date: nothing to contradict
    return found


def _check_name_date(title: _Title, ctx: _Ctx) -> None:
    """A file named for one date must not be archived as (and overwrite) another issue."""
    named = _name_dates(ctx.path)
    if named and title.key is not None and title.key not in named:
        said = ", ".join(sorted(map(str, named)))
        ctx.fail(
            title.line,
            f"the file name says {said} but the H1 says {title.key}: "
            "fix the H1 or rename the file (not archived, so no issue is overwritten)",
        )


def _check_limits(sections: list[_SectionDraft], limits: ParseLimits, ctx: _Ctx) -> None:
    content = [s for s in sections if s.content]
    if len(content) > limits.max_sections:
        cap = f"{limits.sections_setting} = {limits.max_sections}"
        ctx.fail(0, f"{len(content)} sections, more than {cap}")
    total = sum(len(s.entries) for s in content)
    if total > limits.max_entries:
        ctx.fail(0, f"{total} entries, more than {limits.entries_setting} = {limits.max_entries}")
    for draft in content:
        if len(draft.entries) > limits.max_section_entries:
            ctx.fail(
                draft.line,
                f"section {draft.heading[:60]!r} has {len(draft.entries)} entries, more than "
                f"the {limits.max_section_entries} one section can hold",
            )


def _split_sections(lines: Lines, rules: Rules) -> tuple[Lines, Lines]:
    """The preamble and the body: the body starts at the first `## `, or in a flat layout at
    the first line that starts an entry."""
    for index, (_, raw) in enumerate(lines):
        line = raw.rstrip()
        heading = _heading(line)
        if rules.flat:
            if line and rules.entry_head(line, heading) is not None:
                return lines[:index], lines[index:]
        elif heading and heading[0] == 2:
            return lines[:index], lines[index:]
    return lines, []


def _drop_boilerplate(lines: Lines, rules: Rules) -> tuple[Lines, Lines]:
    """(kept lines, left-out lines): the layout's boilerplate is gone before parsing."""
    if not rules.boilerplate:
        return lines, []
    kept: Lines = []
    dropped: Lines = []
    for number, raw in lines:
        (dropped if raw.strip() and rules.is_boilerplate(raw.strip()) else kept).append(
            (number, raw)
        )
    return kept, dropped


@dataclass(frozen=True, slots=True)
class Parsed:
    """An issue and what a curator tuning its layout wants to see: the lines that matched
    no entry, intro or section rule (kept as notes) and the boilerplate left out."""

    issue: Issue
    key: IssueKey  # the number of a numbered series, and the date when there is one
    unmatched: tuple[tuple[int, str], ...] = ()
    left_out: tuple[tuple[int, str], ...] = ()


def parse_issue(
    text: str,
    path: str,
    series: Series,
    taxonomy: Taxonomy,
    *,
    navigation_headings: Collection[str] | None = None,
    limits: ParseLimits | None = None,
    layout: Layout = EMBEDDED_AI,
) -> Issue:
    """Parse one briefing; raise BriefingParseError if `text` is not a briefing.

    Entries come back tagged with topics (see `taxonomy.tag_issue`); recoverable
    defects are listed in `Issue.warnings`. A date in the file name (last path
    segment) must be the H1's date. `limits` refuses issues beyond those caps.
    `navigation_headings`, when given, replaces the layout's (the series setting).
    """
    if navigation_headings is not None and (
        frozenset(navigation_headings) != frozenset(layout.navigation_headings)
    ):
        layout = replace(layout, navigation_headings=tuple(navigation_headings))
    return parse_with_layout(text, path, series, taxonomy, layout, limits=limits).issue


def parse_with_layout(
    text: str,
    path: str,
    series: Series,
    taxonomy: Taxonomy,
    layout: Layout,
    *,
    limits: ParseLimits | None = None,
) -> Parsed:
    """Parse one briefing written the way `layout` says (see `briefings.layout`)."""
    rules = compile_rules(layout)
    ctx = _Ctx(path, rules)
    _check_text(text, ctx)
    front_lines, lines = _front_matter(_split_lines(text), ctx)
    front = _front_fields(front_lines)
    lines, left_out = _drop_boilerplate(lines, rules)
    if not any(raw.strip() for _, raw in lines):
        ctx.fail(0, "only front matter, no title yet: an unfinished briefing?", unfinished=True)
    (title_line, title_text), before, after = _find_title(lines, front.get("title"), ctx)
    preamble_lines, body_lines = _split_sections(after, rules)
    title = _parse_title(title_line, title_text, before + preamble_lines, front, ctx)
    _check_name_date(title, ctx)
    if not body_lines:
        what = "entries" if rules.flat else "'## ' sections"
        ctx.fail(
            title.line,
            f"no {what} yet: an unfinished briefing?",
            unfinished=True,
            key=title.key,
        )
    preamble = _parse_preamble(before + preamble_lines, ctx)
    body = _BodyParser(ctx)
    if rules.flat:
        body.start_flat(body_lines[0][0])
    for number, raw in body_lines:
        body.feed(number, raw)
    if limits is not None:
        _check_limits(body.sections, limits, ctx)
    if layout.section_names:
        taxonomy = taxonomy.with_section_headings(dict(layout.section_names))
    sections = _build_sections(body.sections, taxonomy, ctx)
    if not sections:
        message = "only navigation sections, no content yet: an unfinished briefing?"
        ctx.fail(body_lines[0][0], message, unfinished=True, key=title.key)
    cover = "\n".join(body.cover).strip()
    issue = Issue(
        series=series,
        key=title.key,
        number=title.number,
        title=title.text,
        subtitle=title.subtitle,
        tagline=preamble.tagline,
        intro="\n\n".join(preamble.intro),
        quick_news=tuple(preamble.quick_news),
        notes=(*preamble.notes, cover) if cover else tuple(preamble.notes),
        sections=tuple(sections),
        source_path=path,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        warnings=tuple(ctx.warnings),
        front_matter="\n".join(raw for _, raw in front_lines),
        footer="\n".join(body.footer).strip("\n"),
    )
    key = IssueKey(title.number, title.key)
    return Parsed(tag_issue(issue, taxonomy), key, tuple(ctx.unmatched), tuple(left_out))
