"""The shared renderer: views build units, a platform codec serialises, the chunker packs."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable
from typing import ClassVar, Protocol, Self

from briefings.model import Entry, Issue, Section

from .base import Format, Labels, Limits, Message, SizeUnit
from .blocks import Block, Run, Unit
from .chunking import Rendered, pack
from .search import SearchPageLike
from .views import Views, select_entries


class PlatformCodec(Protocol):
    unit: SizeUnit

    def render(self, block: Block) -> Rendered: ...

    def size(self, text: str) -> int: ...


class BlockRenderer:
    """Implements every view of the `Renderer` protocol for one platform codec."""

    format: ClassVar[Format]

    def __init__(
        self,
        codec: PlatformCodec,
        labels: Labels,
        limits: Limits,
        *,
        issue_link_previews: bool = False,
        max_href: int | None = None,
        url_text: str = " {url}",
    ) -> None:
        if limits.unit != codec.unit:
            raise ValueError(f"{type(self).__name__} measures in {codec.unit}, not {limits.unit}")
        self._codec = codec
        self._labels = labels
        self._limits = limits
        self._views = Views(labels)
        self._issue_previews = issue_link_previews
        self._max_href = max_href  # longer link targets are shown as text, not markup
        self._url_text = url_text  # how such a target follows the link text

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def labels(self) -> Labels:
        return self._labels

    def with_limits(self, limits: Limits) -> Self:
        other = copy.copy(self)
        if limits.unit != self._codec.unit:
            raise ValueError(f"limits must be measured in {self._codec.unit}")
        other._limits = limits
        return other

    def with_web(self, public_url: str) -> Self:
        other = copy.copy(self)
        other._views = Views(self._labels, public_url)
        return other

    # -- views -------------------------------------------------------------

    def issue(self, issue: Issue) -> list[Message]:
        return self._push(self._views.issue(issue))

    def sections(self, issue: Issue, keys: Iterable[str]) -> list[Message]:
        return self._push(self._views.sections(issue, keys))

    def for_subscriber(
        self, issue: Issue, *, sections: Collection[str] = (), topics: Collection[str] = ()
    ) -> list[Message]:
        selected = select_entries(issue, sections, topics)
        if not selected.sections:
            return []
        return self._push(self._views.sections(selected, [s.key for s in selected.sections]))

    def digest(self, issue: Issue) -> list[Message]:
        return self._push(self._views.digest(issue))

    def entry(self, issue: Issue, section: Section, entry: Entry) -> list[Message]:
        return self._pack(self._views.entry(issue, section, entry), disable_preview=False)

    def search_results(self, page: SearchPageLike) -> list[Message]:
        return self._pack(self._views.search(page), disable_preview=True)

    def overview(self, issue: Issue) -> list[Message]:
        return self._push(self._views.overview(issue))

    def service(self, text: str) -> list[Message]:
        return self._pack(self._views.service(text), disable_preview=True)

    # -- packing -----------------------------------------------------------

    def _push(self, units: list[Unit]) -> list[Message]:
        return self._pack(units, disable_preview=not self._issue_previews)

    def _pack(self, units: list[Unit], *, disable_preview: bool) -> list[Message]:
        if self._max_href is not None:
            units = [self._demote_links(u) for u in units]
        packed = pack(units, self._codec, self._limits.max_size, self._limits.max_entities)
        return [
            Message(p.text, self.format, p.size, self._limits.unit, disable_preview) for p in packed
        ]

    def _demote_links(self, unit: Unit) -> Unit:
        blocks = tuple(self._demote_block(b) for b in unit.blocks)
        context = self._demote_block(unit.context) if unit.context else None
        return Unit(blocks, context, unit.opens_context)

    def _demote_block(self, block: Block) -> Block:
        """Show a link whose target is too long as text followed by its URL.

        Done before packing, so the URL is ordinary text that can be split, not markup
        repeated on every piece of a split link.
        """
        limit = self._max_href or 0
        hrefs = [_href(run) for run in block.runs]
        # measured once per target: a long link label is many runs sharing one href
        long = {h for h in set(hrefs) if h is not None and self._codec.size(h) > limit}
        if not long:
            return block
        runs: list[Run] = []
        for i, (run, href) in enumerate(zip(block.runs, hrefs, strict=True)):
            if href not in long:
                runs.append(run)
                continue
            plain = tuple(s for s in run.styles if s.kind != "link")
            runs.append(Run(run.text, plain))
            group_ends = i + 1 == len(hrefs) or hrefs[i + 1] != href
            if group_ends and run.text != href:
                runs.append(Run(self._url_text.format(url=href), plain))
        return Block(
            block.kind,
            tuple(runs),
            block.prefix,
            block.gap_before,
            block.keep_with_next,
            block.level,
        )


def _href(run: Run) -> str | None:
    return next((s.href for s in run.styles if s.kind == "link"), None)
