"""Pack units of blocks into messages that respect a platform's size and entity limits.

Preference order for message boundaries: between units (entries), between blocks
(paragraphs), then inside a block at a newline, sentence punctuation, whitespace,
and finally anywhere (never splitting a character from its combining marks). Blocks
are cut as text before serialisation, so a cut can never land inside a tag or an
escape; the codec closes and reopens formatting on each side.

Messages are first packed "nicely" (keeping entries and paragraphs whole when that
wastes little room); if that needs more than ceil(total / limit) + 1 messages,
packing is redone with less tolerance for unused room, down to filling exactly.

Work is linear in the input: each step of a unit looks only at the blocks up to the
first one that overflows the room left, and a block longer than any message is cut
through a window of about one message's length (every character costs at least one
unit, so no cut can lie further in). Nothing is re-rendered or copied per remaining
tail, so a megabyte title costs what a megabyte of short entries costs.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from .blocks import Block, Unit
from .text import newline_cuts, safe_cut, sentence_cuts, space_cuts

# (entry slack, split slack) as fractions of the size limit, from nicest to tightest.
PASSES = ((0.3, 0.15), (0.1, 0.05), (0.0, 0.0))


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    size: int
    entities: int = 0


class Codec(Protocol):
    """Serialises one block for a platform and measures it in the platform's unit.

    Message text is the rendered blocks joined by newlines, so sizes must be additive:
    size(a + "\\n" + b) == size(a) + 1 + size(b). Every character of a block's text
    costs at least one unit: size >= len(block.text).
    """

    def render(self, block: Block) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class Packed:
    text: str
    size: int
    entities: int


@dataclass(frozen=True, slots=True)
class _Cut:
    """What goes into the message; the rest of the unit starts `taken` blocks on,
    `at` characters into that block (None: at its start), without its styles if `plain`."""

    rank: int  # 0 between blocks, 1 newline, 2 sentence, 3 space, 4 anywhere
    unused: int
    head: list[tuple[Block, Rendered]]
    taken: int
    at: int | None = None
    plain: bool = False


@dataclass(slots=True)
class _Message:
    parts: list[str] = field(default_factory=list)
    size: int = 0
    entities: int = 0
    content: bool = False  # holds more than a continuation heading

    def sep(self, block: Block) -> int:
        return 0 if not self.parts else (2 if block.gap_before else 1)

    def add(self, block: Block, rendered: Rendered, *, content: bool = True) -> None:
        sep = self.sep(block)
        self.parts.append("\n" * sep + rendered.text)
        self.size += sep + rendered.size
        self.entities += rendered.entities
        self.content = self.content or content

    def packed(self) -> Packed:
        return Packed("".join(self.parts), self.size, self.entities)


def pack(
    units: Sequence[Unit],
    codec: Codec,
    max_size: int | None,
    max_entities: int | None = None,
) -> list[Packed]:
    units = [u for u in (_drop_blank(u) for u in units) if u.blocks]
    if not units:
        return []
    whole = _Packer(codec, math.inf, math.inf, 0, 0).run(units)[0]
    if max_size is None and max_entities is None:
        return [whole]
    size_limit = math.inf if max_size is None else max_size
    bound = math.ceil(whole.size / size_limit) + 1
    entity_limit = math.inf if max_entities is None else max_entities
    messages: list[Packed] = []
    for entry_slack, split_slack in PASSES:
        scale = 0 if max_size is None else max_size
        packer = _Packer(codec, size_limit, entity_limit, entry_slack * scale, split_slack * scale)
        messages = packer.run(units)
        if len(messages) <= bound:
            break
    return messages


def _drop_blank(unit: Unit) -> Unit:
    blocks = tuple(b for b in unit.blocks if not b.is_blank())
    return Unit(blocks, unit.context, unit.opens_context and blocks[:1] == unit.blocks[:1])


class _Rest:
    """What is left of a unit: `blocks[index:]`, the first of them from `offset` on.

    Pieces are sliced from the original blocks on demand; a piece longer than `window`
    characters is shown only through its first `window` characters, which is all any
    cut can reach, so each step costs about one message whatever the block's length.
    """

    def __init__(self, blocks: Sequence[Block], window: float) -> None:
        self.blocks = blocks
        self.window = window
        self.index = 0
        self.offset = 0
        self.plain = False  # the current block lost its styles to a forced cut
        self._text: str | None = None  # of blocks[index], kept while it is being cut
        self._starts: list[int] = []  # where each of its runs starts, for slicing

    def __bool__(self) -> bool:
        return self.index < len(self.blocks)

    def piece(self, i: int) -> tuple[Block, int | None]:
        """The i-th block left and, if it is shown through a window, its full length."""
        block = self.blocks[self.index + i]
        start = self.offset if i == 0 else 0
        if i == 0 and (start or self.plain):
            length = len(self._current_text()) - start
        else:
            length = len(block.text) if self.window < math.inf else 0
        if length <= self.window:
            if i == 0 and (start or self.plain):
                block = self._slice(start, start + length)
            return block, None
        return self._slice(start, start + int(self.window), i), length

    def advance(self, cut: _Cut) -> None:
        """Drop what `cut` put into a message, and the whitespace after it."""
        if cut.at is None:
            self._move(cut.taken)
            return
        if cut.taken:
            self._move(cut.taken)
        text = self._current_text()
        at = self.offset + cut.at
        while at < len(text) and text[at].isspace():
            at += 1
        self.offset, self.plain = at, self.plain or cut.plain
        if at >= len(text):
            self._move(1)

    def _move(self, count: int) -> None:
        self.index, self.offset, self.plain = self.index + count, 0, False
        self._text, self._starts = None, []

    def _current_text(self) -> str:
        if self._text is None:
            block = self.blocks[self.index]
            self._text, self._starts = block.text, _run_starts(block)
        return self._text

    def _slice(self, start: int, end: int, i: int = 0) -> Block:
        """blocks[index + i].slice(start, end), touching only the runs in range."""
        block = self.blocks[self.index + i]
        if i == 0:
            self._current_text()
        starts = self._starts if i == 0 else _run_starts(block)
        first = max(0, bisect.bisect_right(starts, start) - 1)
        runs = block.runs[first : bisect.bisect_left(starts, end)]
        part = replace(block, runs=runs).slice(start - starts[first], end - starts[first])
        if start:  # prefix and gap belong to the block's first piece only
            part = replace(part, prefix="", gap_before=False)
        return part.plain() if i == 0 and self.plain else part


def _run_starts(block: Block) -> list[int]:
    return list(itertools.accumulate((len(r.text) for r in block.runs), initial=0))


class _Packer:
    def __init__(
        self,
        codec: Codec,
        max_size: float,
        max_entities: float,
        entry_slack: float,
        split_slack: float,
    ) -> None:
        self.codec = codec
        self.max_size = max_size
        self.max_entities = max_entities
        self.entry_slack = entry_slack
        self.split_slack = split_slack
        self.out: list[Packed] = []
        self.msg = _Message()
        # a cut reaches at most max_size + 1 characters in, and looks one further
        self.window = max_size + 2

    def run(self, units: Sequence[Unit]) -> list[Packed]:
        for unit in units:
            self._place(unit)
        self._flush()
        return self.out

    def _flush(self) -> None:
        if self.msg.content:
            self.out.append(self.msg.packed())
        self.msg = _Message()

    def _place(self, unit: Unit) -> None:
        rest = _Rest(unit.blocks, self.window)
        cache: dict[int, Rendered] = {}  # renders of the unit's whole blocks, by index
        fresh, with_context = True, True
        while rest:
            continues = not (fresh and unit.opens_context)
            if not self.msg.parts and self.out and unit.context and with_context and continues:
                self.msg.add(unit.context, self.codec.render(unit.context), content=False)
            blocks, rendered, windowed, complete = self._visible(rest, cache)
            if complete and self._fits_all(blocks, rendered):
                for block, r in zip(blocks, rendered, strict=True):
                    self.msg.add(block, r)
                return
            if self.msg.content and fresh and self._room() < self.entry_slack:
                self._flush()
                continue
            cut = self._split(blocks, rendered)
            if cut is None:
                if self.msg.content:
                    self._flush()
                    continue
                if self.msg.parts:  # the continuation heading leaves no room
                    self.msg, with_context = _Message(), False
                    continue
                cut = self._force(blocks[0], windowed)
            for block, r in cut.head:
                self.msg.add(block, r)
            self._flush()
            for done in range(rest.index, rest.index + cut.taken):
                cache.pop(done, None)
            rest.advance(cut)
            fresh, with_context = False, True

    def _visible(
        self, rest: _Rest, cache: dict[int, Rendered]
    ) -> tuple[list[Block], list[Rendered], bool, bool]:
        """The blocks left, rendered, up to the first one that overflows the room.

        Also says whether the first is shown through a window and whether every
        block left is shown. A windowed block gets a stand-in render that never
        fits (its length bounds its size from below): it is only ever cut.
        """
        room, room_entities = self._room(), self.max_entities - self.msg.entities
        blocks: list[Block] = []
        rendered: list[Rendered] = []
        used = entities = 0
        windowed = False
        for i in range(len(rest.blocks) - rest.index):
            block, length = rest.piece(i)
            if length is not None:
                r = Rendered("", length)
                windowed = windowed or i == 0
            elif i == 0 and (rest.offset or rest.plain):
                r = self.codec.render(block)
            else:
                r = cache.get(rest.index + i) or self.codec.render(block)
                cache[rest.index + i] = r
            blocks.append(block)
            rendered.append(r)
            used += self._sep(i, block) + r.size
            entities += r.entities
            if used > room or entities > room_entities:
                return blocks, rendered, windowed, False
        return blocks, rendered, windowed, True

    def _room(self) -> float:
        return self.max_size - self.msg.size

    def _sep(self, index: int, block: Block) -> int:
        if index == 0:
            return self.msg.sep(block)
        return 2 if block.gap_before else 1

    def _fits_all(self, blocks: list[Block], rendered: list[Rendered]) -> bool:
        size = sum(
            self._sep(i, b) + r.size for i, (b, r) in enumerate(zip(blocks, rendered, strict=True))
        )
        entities = sum(r.entities for r in rendered)
        return size <= self._room() and self.msg.entities + entities <= self.max_entities

    def _split(self, blocks: list[Block], rendered: list[Rendered]) -> _Cut | None:
        room, room_entities = self._room(), self.max_entities - self.msg.entities
        used = entities = fit = 0
        sizes = [0]
        for i, (block, r) in enumerate(zip(blocks, rendered, strict=True)):
            step = self._sep(i, block) + r.size
            if used + step > room or entities + r.entities > room_entities:
                break
            used, entities, fit = used + step, entities + r.entities, i + 1
            sizes.append(used)
        whole = fit
        while whole > 0 and blocks[whole - 1].keep_with_next:
            whole -= 1
        cuts: list[_Cut] = []
        if whole > 0:
            head = list(zip(blocks[:whole], rendered[:whole], strict=True))
            cuts.append(_Cut(0, int(room - sizes[whole]), head, whole))
            if cuts[-1].unused <= self.split_slack:
                return cuts[-1]
        if fit < len(blocks):
            inner_room = room - used - self._sep(fit, blocks[fit])
            head = list(zip(blocks[:fit], rendered[:fit], strict=True))
            # with no slack only the fullest cut matters: skip the nicer, costlier ranks
            ranks = (4,) if self.split_slack <= 0 else (1, 2, 3, 4)
            for rank, left, at, unused in self._inner_cuts(
                blocks[fit], inner_room, room_entities - entities, ranks
            ):
                cuts.append(_Cut(rank, int(unused), [*head, left], fit, at))
                if rank < 4 and unused <= self.split_slack:
                    break
        return _choose(cuts, self.split_slack)

    def _inner_cuts(
        self, block: Block, room: float, room_entities: float, ranks: tuple[int, ...]
    ) -> Iterator[tuple[int, tuple[Block, Rendered], int, float]]:
        """The fullest fitting cut of each rank, lazily, best rank first, with the
        position where the rest of the block starts."""
        text = block.text
        # every character costs at least one unit, so longer prefixes cannot fit
        reach = len(text) if math.isinf(room) else max(0, min(len(text), int(room) + 1))
        for rank in ranks:
            positions, span = _candidates(text, reach, rank)
            best = _largest(
                positions, lambda p, span=span: self._try(block, span(p), room, room_entities)
            )
            if best is not None:
                end, at = span(best)
                left = _left(block, end, text)
                r = self.codec.render(left)
                yield rank, (left, r), at, room - r.size

    def _try(self, block: Block, span: tuple[int, int], room: float, room_entities: float) -> bool:
        left = _left(block, span[0])
        if left.is_blank():
            return False
        r = self.codec.render(left)
        return r.size <= room and r.entities <= room_entities

    def _force(self, block: Block, windowed: bool) -> _Cut:
        """Nothing fits an empty message: drop the styles (e.g. a huge link target)."""
        plain = block.plain()
        if not windowed:
            r = self.codec.render(plain)
            if r.size <= self.max_size and r.entities <= self.max_entities:
                return _Cut(4, 0, [(plain, r)], 1)
        for _, left, at, _ in self._inner_cuts(plain, self.max_size, self.max_entities, (4,)):
            return _Cut(4, 0, [left], 0, at, plain=True)
        raise ValueError("message size limit too small for a single character")


def _choose(cuts: list[_Cut], slack: float) -> _Cut | None:
    """The best-ranked cut wasting at most `slack`; else the fullest cut that is not
    mid-word if it wastes at most 3 * slack; else the fullest cut."""
    if not cuts:
        return None
    gentle = [c for c in cuts if c.rank < 4]
    good = [c for c in gentle if c.unused <= slack]
    if good:
        return min(good, key=lambda c: c.rank)
    fair = [c for c in gentle if c.unused <= 3 * slack] if slack > 0 else []
    return min(fair or cuts, key=lambda c: (c.unused, c.rank))


Span = Callable[[int], tuple[int, int]]


def _candidates(text: str, reach: int, rank: int) -> tuple[Sequence[int], Span]:
    """Cut positions of a rank (up to `reach`), mapped to (end of left, start of right)."""
    head = text[: reach + 1]
    if rank == 1:
        return newline_cuts(head), lambda p: (p, p + 1)
    if rank == 2:
        return sentence_cuts(head), lambda p: (p, p)
    if rank == 3:
        return space_cuts(head), lambda p: (p, p + 1)
    return range(1, min(reach + 1, len(text))), lambda p: (safe_cut(text, p),) * 2


def _left(block: Block, end: int, text: str | None = None) -> Block:
    text = block.text if text is None else text
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return block.slice(0, end)


def _largest(positions: Sequence[int], ok: Callable[[int], bool]) -> int | None:
    """The largest position accepted by a monotone (true-then-false) predicate."""
    lo, hi, best = 0, len(positions) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(positions[mid]):
            best, lo = positions[mid], mid + 1
        else:
            hi = mid - 1
    return best
