"""Pack units of blocks into messages that respect a platform's size and entity limits.

Preference order for message boundaries: between units (entries), between blocks
(paragraphs), then inside a block at a newline, sentence punctuation, whitespace,
and finally anywhere (never splitting a character from its combining marks). Blocks
are cut as text before serialisation, so a cut can never land inside a tag or an
escape; the codec closes and reopens formatting on each side.

Messages are first packed "nicely" (keeping entries and paragraphs whole when that
wastes little room); if that needs more than ceil(total / limit) + 1 messages,
packing is redone with less tolerance for unused room, down to filling exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
    size(a + "\\n" + b) == size(a) + 1 + size(b).
    """

    def render(self, block: Block) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class Packed:
    text: str
    size: int
    entities: int


@dataclass(frozen=True, slots=True)
class _Cut:
    rank: int  # 0 between blocks, 1 newline, 2 sentence, 3 space, 4 anywhere
    unused: int
    head: list[tuple[Block, Rendered]]
    tail: list[Block]


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
        blocks = list(unit.blocks)
        cache: dict[int, tuple[Block, Rendered]] = {}
        fresh, with_context = True, True
        while blocks:
            continues = not (fresh and unit.opens_context)
            if not self.msg.parts and self.out and unit.context and with_context and continues:
                self.msg.add(unit.context, self.codec.render(unit.context), content=False)
            rendered = [self._render(b, cache) for b in blocks]
            if self._fits_all(blocks, rendered):
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
                cut = self._force(blocks)
            for block, r in cut.head:
                self.msg.add(block, r)
            self._flush()
            blocks, fresh, with_context = cut.tail, False, True

    def _render(self, block: Block, cache: dict[int, tuple[Block, Rendered]]) -> Rendered:
        hit = cache.get(id(block))
        if hit is None or hit[0] is not block:  # ids of collected blocks get reused
            hit = cache[id(block)] = (block, self.codec.render(block))
        return hit[1]

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
            cuts.append(_Cut(0, int(room - sizes[whole]), head, blocks[whole:]))
            if cuts[-1].unused <= self.split_slack:
                return cuts[-1]
        if fit < len(blocks):
            inner_room = room - used - self._sep(fit, blocks[fit])
            head = list(zip(blocks[:fit], rendered[:fit], strict=True))
            # with no slack only the fullest cut matters: skip the nicer, costlier ranks
            ranks = (4,) if self.split_slack <= 0 else (1, 2, 3, 4)
            for rank, left, right, unused in self._inner_cuts(
                blocks[fit], inner_room, room_entities - entities, ranks
            ):
                tail = ([right] if not right.is_blank() else []) + blocks[fit + 1 :]
                cuts.append(_Cut(rank, int(unused), [*head, left], tail))
                if rank < 4 and unused <= self.split_slack:
                    break
        return _choose(cuts, self.split_slack)

    def _inner_cuts(
        self, block: Block, room: float, room_entities: float, ranks: tuple[int, ...]
    ) -> Iterator[tuple[int, tuple[Block, Rendered], Block, float]]:
        """The fullest fitting cut of each rank, lazily, best rank first."""
        text = block.text
        # every character costs at least one unit, so longer prefixes cannot fit
        reach = len(text) if math.isinf(room) else max(0, min(len(text), int(room) + 1))
        for rank in ranks:
            positions, span = _candidates(text, reach, rank)
            best = _largest(
                positions, lambda p, span=span: self._try(block, span(p), room, room_entities)
            )
            if best is not None:
                left, right = _pieces(block, span(best))
                r = self.codec.render(left)
                yield rank, (left, r), right, room - r.size

    def _try(self, block: Block, span: tuple[int, int], room: float, room_entities: float) -> bool:
        left = _left(block, span[0])
        if left.is_blank():
            return False
        r = self.codec.render(left)
        return r.size <= room and r.entities <= room_entities

    def _force(self, blocks: list[Block]) -> _Cut:
        """Nothing fits an empty message: drop the styles (e.g. a huge link target)."""
        plain = blocks[0].plain()
        r = self.codec.render(plain)
        if r.size <= self.max_size and r.entities <= self.max_entities:
            return _Cut(4, 0, [(plain, r)], blocks[1:])
        for _, left, right, _ in self._inner_cuts(plain, self.max_size, self.max_entities, (4,)):
            tail = ([right] if not right.is_blank() else []) + blocks[1:]
            return _Cut(4, 0, [left], tail)
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


def _pieces(block: Block, span: tuple[int, int]) -> tuple[Block, Block]:
    """Both sides of a cut, without the whitespace around it."""
    text = block.text
    start = span[1]
    while start < len(text) and text[start].isspace():
        start += 1
    return _left(block, span[0], text), block.slice(start, len(text))


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
