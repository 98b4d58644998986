"""Platform-neutral document model: blocks of styled runs, grouped into units.

Views build units; a platform codec serialises blocks; the chunker packs units
into messages. Styles live on flat runs (not a tree) so any slice of a block is
itself a well-formed block: formatting cut at a message boundary is simply
closed in one message and reopened in the next by the codec.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

StyleKind = Literal[
    "bold", "italic", "underline", "strike", "code", "mark", "muted", "spoiler", "link"
]
BlockKind = Literal["para", "heading", "quote", "pre"]


@dataclass(frozen=True, slots=True)
class Style:
    kind: StyleKind
    href: str = ""  # only for links; always an http(s) URL


BOLD = Style("bold")
ITALIC = Style("italic")
CODE = Style("code")
MARK = Style("mark")  # a search match
MUTED = Style("muted")  # secondary text such as a source name
STRIKE = Style("strike")
UNDERLINE = Style("underline")


def link(href: str) -> Style:
    return Style("link", href)


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    styles: tuple[Style, ...] = ()


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph-like line. `prefix` (bullet, number) belongs to its first piece only."""

    kind: BlockKind
    runs: tuple[Run, ...]
    prefix: str = ""
    gap_before: bool = False  # blank line before it, unless it starts a message
    keep_with_next: bool = False  # never end a message right after this block
    level: int = 2  # heading level, 1 = issue title

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    def is_blank(self) -> bool:
        return not self.prefix.strip() and not self.text.strip()

    def slice(self, start: int, end: int) -> Block:
        """The block restricted to text[start:end]; prefix and gap stay with the start."""
        runs: list[Run] = []
        pos = 0
        for run in self.runs:
            lo, hi = max(start, pos), min(end, pos + len(run.text))
            if lo < hi:
                runs.append(Run(run.text[lo - pos : hi - pos], run.styles))
            pos += len(run.text)
        first = start == 0
        return Block(
            self.kind,
            tuple(runs),
            self.prefix if first else "",
            self.gap_before and first,
            self.keep_with_next,
            self.level,
        )

    def plain(self) -> Block:
        return replace(self, runs=(Run(self.text),))


@dataclass(frozen=True, slots=True)
class Unit:
    """Blocks the chunker prefers to keep in one message (an entry, a header).

    `context` is the heading repeated, marked as continued, when the unit's
    section carries on into a new message; `opens_context` says the unit
    itself starts with that section's heading.
    """

    blocks: tuple[Block, ...]
    context: Block | None = None
    opens_context: bool = False


def text_block(
    text: str,
    styles: tuple[Style, ...] = (),
    *,
    kind: BlockKind = "para",
    prefix: str = "",
    gap_before: bool = False,
    keep_with_next: bool = False,
    level: int = 2,
) -> Block:
    return Block(kind, (Run(text, styles),), prefix, gap_before, keep_with_next, level)
