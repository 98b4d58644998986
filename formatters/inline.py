"""Markdown source text to platform-neutral blocks, via Python-Markdown's ElementTree.

Python-Markdown parses (after `normalize_lists` rewrites GitHub-style lists the way
it reads them); we walk the tree it builds and keep only what every
platform can show: paragraphs and lines, lists as bullet lines, headings as bold
lines, quotes, code, emphasis and http(s) links. Images become links, raw HTML is
reduced to its text, anything else to its text content.
"""

from __future__ import annotations

import bisect
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE, HTML_PLACEHOLDER_RE

from .blocks import BOLD, CODE, ITALIC, STRIKE, UNDERLINE, Block, BlockKind, Run, Style, link
from .lists import normalize_lists
from .text import clean, is_web_url, safe_cut

_MAX_DEPTH = 24  # deeper trees are flattened to text (hostile input, recursion limit)
_STYLES = {
    "strong": BOLD,
    "b": BOLD,
    "em": ITALIC,
    "i": ITALIC,
    "code": CODE,
    "del": STRIKE,
    "s": STRIKE,
    "u": UNDERLINE,
    "ins": UNDERLINE,
}
_BLOCK_TAGS = {"p", "ul", "ol", "blockquote", "pre", "hr", "div", "table", "dl"}
_BLOCK_TAGS |= {f"h{n}" for n in range(1, 7)}
_LEFTOVER = re.compile("[\x02\x03]")
_BREAK = "\n"
# Python-Markdown's inline pass rebuilds a paragraph's text once per match and its block
# parser pops blocks from the front of a list: quadratic. Longer sources are converted
# in pieces of at most this many characters, cut between paragraphs where possible.
SEGMENT = 8192
_FENCE = re.compile(r"^ *(?:```|~~~)", re.MULTILINE)


class _Capture(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        self.md.captured_tree = root  # type: ignore[attr-defined]


class _CaptureExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # after 'unescape' (0) so backslash escapes are already resolved
        md.treeprocessors.register(_Capture(md), "briefbot_capture", -10)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append(_BREAK)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _raw_html_text(raw: str) -> str:
    parser = _TextOf()
    parser.feed(raw)
    parser.close()
    return "".join(parser.parts)


class InlineMarkdown:
    """Converts markdown fields of the model; one instance per renderer (not thread-safe)."""

    CACHE_SIZE = 4096  # the same summaries are rendered for many subscribers

    def __init__(self, image_label: str = "image") -> None:
        self._md = markdown.Markdown(extensions=["sane_lists", _CaptureExtension()])
        self._image_label = image_label
        self._cache: dict[tuple[str, BlockKind], tuple[Block, ...]] = {}

    def blocks(self, source: str, kind: BlockKind = "para") -> list[Block]:
        """One block per paragraph or line; `kind="quote"` marks all of them quoted."""
        key = (source, kind)
        cached = self._cache.get(key)
        if cached is None:
            cached = tuple(self._convert(source, kind))
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))  # oldest first
            self._cache[key] = cached
        return list(cached)

    def _convert(self, source: str, kind: BlockKind) -> list[Block]:
        source = clean(normalize_lists(source)).strip()
        blocks: list[Block] = []
        for piece, joiner in _segments(source, SEGMENT):
            converted = self._convert_piece(piece, kind)
            if joiner is not None and blocks and converted:  # a line cut in two: rejoin it
                blocks[-1] = _join(blocks[-1], converted.pop(0), joiner)
            blocks += converted
        return blocks

    def _convert_piece(self, source: str, kind: BlockKind) -> list[Block]:
        if not source.strip():
            return []
        self._md.reset()
        self._md.convert(source)
        root: ET.Element = self._md.captured_tree  # type: ignore[attr-defined]
        walker = _Walker(self._md.htmlStash.rawHtmlBlocks, self._image_label)
        walker.container(root, (), 0, kind)
        walker.flush(kind)
        return walker.out

    def line(self, source: str) -> tuple[Run, ...]:
        """All paragraphs of the source as runs of a single line."""
        runs: list[Run] = []
        for block in self.blocks(source):
            if runs:
                runs.append(Run(" "))
            if block.prefix:
                runs.append(Run(block.prefix))
            runs.extend(block.runs)
        return tuple(runs)


class _Walker:
    def __init__(self, stash: list[object], image_label: str) -> None:
        self.stash = stash
        self.image_label = image_label
        self.out: list[Block] = []
        self.line: list[Run] = []
        self.prefix = ""
        self.lists = 0  # list nesting level

    # -- block level -------------------------------------------------------

    def container(
        self, el: ET.Element, styles: tuple[Style, ...], depth: int, kind: BlockKind
    ) -> None:
        """Mixed content: inline text accumulates into lines, block children flush them."""
        self.text(el.text, styles)
        for child in el:
            if child.tag in _BLOCK_TAGS or child.tag in ("ul", "ol", "li"):
                self.flush(kind)
                self.block(child, depth + 1, kind)
            else:
                self.inline(child, styles, depth + 1)
            self.text(child.tail, styles)

    def block(self, el: ET.Element, depth: int, kind: BlockKind) -> None:
        tag = el.tag
        if depth > _MAX_DEPTH:
            self.text("".join(el.itertext()), ())
            self.flush(kind)
        elif tag in ("ul", "ol"):
            self.list(el, depth, kind)
        elif tag == "blockquote":
            self.container(el, (), depth, "quote")
            self.flush("quote")
        elif tag == "pre":
            self.pre(el, kind)
        elif tag == "hr":
            pass
        elif re.fullmatch(r"h[1-6]", tag):
            self.container(el, (BOLD,), depth, kind)
            self.flush(kind)
        else:
            self.container(el, (), depth, kind)
            self.flush(kind)

    def list(self, el: ET.Element, depth: int, kind: BlockKind) -> None:
        ordered = el.tag == "ol"
        number = int(el.get("start", "1") or 1) if ordered else 0
        indent = "  " * self.lists
        self.lists += 1
        for item in el:
            self.prefix = f"{indent}{number}. " if ordered else f"{indent}• "
            number += 1
            self.container(item, (), depth + 1, kind)
            self.flush(kind)
            self.prefix = ""
        self.lists -= 1

    def pre(self, el: ET.Element, kind: BlockKind) -> None:
        self.flush(kind)
        code = _unescape_code("".join(el.itertext())).rstrip("\n")
        if code.strip():
            self.out.append(Block("pre", (Run(code),)))

    def flush(self, kind: BlockKind) -> None:
        """Emit the pending inline runs as one block per line."""
        lines: list[list[Run]] = [[]]
        for run in self.line:
            parts = run.text.split(_BREAK)
            for i, part in enumerate(parts):
                if i:
                    lines.append([])
                if part:
                    lines[-1].append(Run(part, run.styles))
        self.line = []
        for runs in lines:
            trimmed = _trim(runs)
            if trimmed:
                self.out.append(Block(kind, trimmed, prefix=self.prefix))
                self.prefix = ""

    # -- inline level ------------------------------------------------------

    def inline(self, el: ET.Element, styles: tuple[Style, ...], depth: int) -> None:
        tag = el.tag
        if depth > _MAX_DEPTH:
            self.text("".join(el.itertext()), styles)
        elif tag == "br":
            self.line.append(Run(_BREAK))
        elif tag == "img":
            self.image(el, styles)
        elif tag == "a":
            href = el.get("href", "")
            inner = (*styles, link(href)) if is_web_url(href) else styles
            if not "".join(el.itertext()).strip() and is_web_url(href):
                self.line.append(Run(href, inner))
            else:
                self.container_inline(el, inner, depth)
        elif tag == "code":
            self.line.append(Run(_unescape_code("".join(el.itertext())), (*styles, CODE)))
        else:
            extra = _STYLES.get(tag)
            self.container_inline(el, (*styles, extra) if extra else styles, depth)

    def container_inline(self, el: ET.Element, styles: tuple[Style, ...], depth: int) -> None:
        self.text(el.text, styles)
        for child in el:
            self.inline(child, styles, depth + 1)
            self.text(child.tail, styles)

    def image(self, el: ET.Element, styles: tuple[Style, ...]) -> None:
        src, alt = el.get("src", ""), (el.get("alt") or "").strip()
        if is_web_url(src):
            self.line.append(Run(alt or self.image_label, (*styles, link(src))))
        elif alt:
            self.line.append(Run(alt, styles))

    def text(self, text: str | None, styles: tuple[Style, ...]) -> None:
        if text:
            self.line.append(Run(self.resolve(text), styles))

    def resolve(self, text: str) -> str:
        """Replace Python-Markdown's placeholders: raw HTML is reduced to its text."""

        def stashed(match: re.Match[str]) -> str:
            index = int(match.group(1))
            raw = self.stash[index] if index < len(self.stash) else ""
            return _raw_html_text(raw) if isinstance(raw, str) else ""

        text = HTML_PLACEHOLDER_RE.sub(stashed, text)
        if AMP_SUBSTITUTE in text:
            text = html.unescape(text.replace(AMP_SUBSTITUTE, "&"))
        return _LEFTOVER.sub("", text)


def _unescape_code(text: str) -> str:
    # Python-Markdown escapes code text itself (util.code_escape)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _trim(runs: list[Run]) -> tuple[Run, ...]:
    merged: list[Run] = []
    for run in runs:
        if merged and merged[-1].styles == run.styles:
            merged[-1] = Run(merged[-1].text + run.text, run.styles)
        else:
            merged.append(run)
    if merged:
        merged[0] = Run(merged[0].text.lstrip(), merged[0].styles)
        merged[-1] = Run(merged[-1].text.rstrip(), merged[-1].styles)
    merged = [r for r in merged if r.text]
    return tuple(merged) if "".join(r.text for r in merged).strip() else ()


def _segments(source: str, limit: int) -> Iterator[tuple[str, str | None]]:
    """Pieces of at most `limit` characters, each with the text that joins it to the
    line before (None: it starts a new line or paragraph).

    Cuts go at the last blank line outside fenced code, else the last line break,
    else the last space, else anywhere (never inside a grapheme).
    """
    fences = [m.start() for m in _FENCE.finditer(source)]
    fences = fences[: len(fences) // 2 * 2]  # an unclosed fence is text
    start, joiner = 0, None
    while len(source) - start > limit:
        end, resume, joiner_next = _cut(source, start, start + limit, fences)
        yield source[start:end], joiner
        start, joiner = resume, joiner_next
    yield source[start:], joiner


def _cut(source: str, start: int, end: int, fences: list[int]) -> tuple[int, int, str | None]:
    """Where to cut source[start:end], where the next piece starts, and its joiner."""
    blank = source.rfind("\n\n", start + 1, end)
    while blank > start and bisect.bisect_right(fences, blank) % 2:
        blank = source.rfind("\n\n", start + 1, blank)
    if blank > start:
        return blank, blank + 2, None
    newline = source.rfind("\n", start + 1, end)
    if newline > start:
        return newline, newline + 1, None
    space = source.rfind(" ", start + 1, end)
    if space > start:
        return space, space + 1, " "
    cut = start + safe_cut(source[start : end + 1], end - start)
    return cut, cut, ""


def _join(first: Block, second: Block, joiner: str) -> Block:
    """The two halves of a line cut between segments, as one block."""
    runs = (*first.runs, Run(joiner), *second.runs) if joiner else (*first.runs, *second.runs)
    return Block(first.kind, runs, first.prefix, first.gap_before, first.keep_with_next)
