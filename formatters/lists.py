"""List markdown rewritten the way Python-Markdown reads lists (pure, whitespace only).

Briefings write lists the way GitHub renders them: straight after a paragraph line
(`摘要：...如下：` then `- item`, no blank line) and with sub-lists indented by 2
spaces. Python-Markdown needs a blank line before a list and 4 spaces per nesting
level; otherwise the items stay paragraph text (`- item` shown literally) or lose
their nesting. `normalize_lists` inserts those blank lines and re-indents list lines
to 4 spaces per level. It changes only whitespace, so no text can be lost.

Rules (CommonMark's, where Python-Markdown differs):
- An item is `-`, `*`, `+` or `N.` followed by a space and text (a thematic break
  such as `* * *` is not). A list after a paragraph line starts only with a bullet
  or `1.`: a wrapped line that happens to begin "2019. " stays text.
- An item indented at least 2 columns more than the open item above it is nested
  in it; otherwise it is a sibling of the nearest item it is not indented past.
  A blank line also goes before an item that switches between bullets and numbers
  or returns from a deeper level (Python-Markdown would take it as lazy text).
- After a blank line, a text line belongs to the items whose text column it is
  indented to (it is re-indented to their level); otherwise it ends the list.
- Fenced code (between two fence lines) and indented code blocks (4+ spaces
  after a blank line, outside a list) are left alone; tabs in indentation count
  as 4 columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_INDENT = re.compile(r"^[ \t]*")
_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|(?P<number>\d{1,9})\.)(?P<gap> +)\S")
_RULE = re.compile(r"^ *([-*_])(?: *\1){2,} *$")
_FENCE = re.compile(r"^ *(?:```|~~~)")
_NEST = 2  # columns past the parent item's marker that make an item its child
_LEVEL = "    "  # Python-Markdown's indent per nesting level

Previous = Literal["start", "blank", "item", "text"]


@dataclass(frozen=True, slots=True)
class _Item:
    column: int  # of the marker, in the source
    content: int  # column where its text starts (CommonMark: 1 space if 5 or more)
    ordered: bool

    @classmethod
    def of(cls, match: re.Match[str]) -> _Item:
        column, gap = len(match["indent"]), len(match["gap"])
        content = column + len(match["marker"]) + (gap if gap <= 4 else 1)
        return cls(column, content, match["number"] is not None)


@dataclass
class _Lists:
    out: list[str] = field(default_factory=list)
    stack: list[_Item] = field(default_factory=list)  # the open items, outermost first
    previous: Previous = "start"
    fenced: bool = False
    code: bool = False

    def feed(self, line: str, *, fence: bool) -> None:
        indent = len(line) - len(line.lstrip(" "))
        if self.code and line.strip() and indent < 4:
            self.code = False
        if fence or self.fenced:
            self.fenced = self.fenced != fence
            self._emit(line, "text")
        elif not line.strip():  # leading blank lines are stripped later: still the start
            self._emit("", "start" if self.previous == "start" else "blank")
        elif self.code:
            self._emit(line, "text")
        elif not self.stack and self.previous == "blank" and indent >= 4:
            self.code = True
            self._emit(line, "text")
        elif item := self._item_match(line):
            self._item(line, _Item.of(item))
        else:
            self._text(line, indent)

    def _item_match(self, line: str) -> re.Match[str] | None:
        item = _ITEM.match(line)
        if item is None or _RULE.match(line):
            return None
        interrupts = not self.stack and self.previous == "text"
        return item if not interrupts or item.group("number") in (None, "1") else None

    def _item(self, line: str, item: _Item) -> None:
        depth, sibling = len(self.stack), None
        while self.stack and item.column < self.stack[-1].column + _NEST:
            sibling = self.stack.pop()
        # Python-Markdown starts a list only after a blank line; with sane_lists a bullet
        # list does not continue as a numbered one (nor the reverse); and an item after a
        # deeper one may be taken as its lazy text: a blank line settles all three
        switched = sibling is not None and sibling.ordered != item.ordered
        shallower = len(self.stack) < depth - 1
        if self.previous == "text" or (self.previous == "item" and (switched or shallower)):
            self.out.append("")
        self._emit(_LEVEL * len(self.stack) + line.lstrip(" "), "item")
        self.stack.append(item)

    def _text(self, line: str, indent: int) -> None:
        if self.previous == "blank" and self.stack:
            # a paragraph of the items whose text it is indented to; else the list ends
            self.stack = [item for item in self.stack if item.content <= indent]
            line = _LEVEL * len(self.stack) + line.lstrip(" ")
        self._emit(line, "text")

    def _emit(self, line: str, kind: Previous) -> None:
        self.out.append(line)
        self.previous = kind


def _expand_indent(line: str) -> str:
    indent = _INDENT.match(line)
    lead = indent.group() if indent else ""
    return lead.expandtabs(4) + line[len(lead) :] if "\t" in lead else line


def normalize_lists(source: str) -> str:
    """`source` with blank lines before lists and 4-space nesting (see module doc)."""
    lines = [_expand_indent(line) for line in _LINE_BREAK.split(source)]
    fences = [i for i, line in enumerate(lines) if _FENCE.match(line)]
    if len(fences) % 2:
        fences.pop()  # an unclosed fence is text to Python-Markdown, not code
    fence_lines = set(fences)  # looked up once per line: a list made this quadratic
    lists = _Lists()
    for index, line in enumerate(lines):
        lists.feed(line, fence=index in fence_lines)
    return "\n".join(lists.out)
