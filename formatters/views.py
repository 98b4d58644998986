"""Platform-neutral views: the model laid out as units of blocks, ready to be packed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace

from briefings.marks import MARK_END, MARK_START
from briefings.model import Entry, Issue, Section

from .base import Labels
from .blocks import BOLD, ITALIC, MARK, MUTED, Block, Run, Style, Unit, link, text_block
from .inline import InlineMarkdown
from .plain import plain_inline
from .search import SearchHitLike, SearchPageLike
from .text import clean, is_web_url, one_line
from .weblinks import issue_url

EntryView = Callable[[Entry, int | None], list[Block]]


def select_entries(issue: Issue, sections: Collection[str], topics: Collection[str]) -> Issue:
    """The issue reduced to entries in `sections` or sharing a topic; empty sections dropped."""
    wanted_topics = set(topics)
    kept = []
    for section in issue.sections:
        entries = tuple(
            e
            for e in section.entries
            if section.key in sections or wanted_topics.intersection(e.topics)
        )
        if entries:
            kept.append(replace(section, entries=entries))
    return issue.with_sections(tuple(kept))


class Views:
    def __init__(self, labels: Labels, public_url: str = "") -> None:
        self.labels = labels
        self.public_url = public_url  # the web archive's address: a link under each header
        self.md = InlineMarkdown(labels.image)
        # titles and headings recur in every rendering of an issue
        self.plain = functools.lru_cache(maxsize=4096)(plain_inline)

    # -- views -------------------------------------------------------------

    def issue(self, issue: Issue) -> list[Unit]:
        units = [self.header(issue), *self.preamble(issue)]
        for section in issue.sections:
            units.extend(self.section(section, self.full_entry))
        return units

    def sections(self, issue: Issue, keys: Iterable[str]) -> list[Unit]:
        wanted = set(keys)
        chosen = [s for s in issue.sections if s.key in wanted]
        if not chosen:
            return []
        units = [self.header(issue)]
        for section in chosen:
            units.extend(self.section(section, self.full_entry))
        return units

    def digest(self, issue: Issue) -> list[Unit]:
        units = [self.header(issue)]
        for section in issue.sections:
            units.extend(self.section(section, self.digest_entry))
        return units

    def entry(self, issue: Issue, section: Section, entry: Entry) -> list[Unit]:
        where = f"{self.plain(issue.title)} · {self.plain(section.heading)}"
        context = text_block(where, (MUTED,))
        blocks = [context, *self.full_entry(entry, None, with_label=True)]
        if entry.topics:
            topics = self.labels.separator.join(one_line(t) for t in entry.topics)
            blocks.append(text_block(f"{self.labels.topics}{self.labels.colon}{topics}", (MUTED,)))
        return [Unit(tuple(blocks))]

    def overview(self, issue: Issue) -> list[Unit]:
        units = [self.header(issue)]
        if issue.intro.strip():
            units.append(self.intro(issue.intro))
        heading = text_block(self.labels.contents, kind="heading", gap_before=True)
        lines = [heading]
        for section in issue.sections:
            count = self.labels.entries(len(section.entries))
            lines.append(
                Block(
                    "para",
                    (Run(self.plain(section.heading), (BOLD,)), Run(f" — {count}")),
                    prefix="• ",
                )
            )
        lines.append(text_block(self.labels.total_entries(issue.entry_count), (MUTED,)))
        units.append(Unit(tuple(lines)))
        return units

    def search(self, page: SearchPageLike) -> list[Unit]:
        units = [self.search_header(page)]
        first = (page.page - 1) * page.page_size + 1 if page.page_size else 1
        for number, hit in enumerate(page.hits, start=first):
            units.append(self.hit(hit, number))
        if not page.hits:
            units.append(Unit((text_block(self.labels.no_results),)))
        elif page.has_more or self._pages(page) > page.page:
            units.append(Unit((text_block(self.labels.more, (MUTED,), gap_before=True),)))
        return units

    def service(self, text: str) -> list[Unit]:
        blocks: list[Block] = []
        gap = False
        for line in clean(text).split("\n"):
            if not line.strip():
                gap = bool(blocks)
                continue
            blocks.append(text_block(line.rstrip(), gap_before=gap))
            gap = False
        return [Unit(tuple(blocks))] if blocks else []

    # -- parts -------------------------------------------------------------

    def header(self, issue: Issue) -> Unit:
        # a numbered series' issue is named by its number, and its date when it has one
        names = [str(n) for n in (issue.key, issue.number and f"#{issue.number}") if n]
        title = self.plain(issue.title) or " ".join(names)
        blocks = [text_block(title, kind="heading", level=1)]
        if issue.key is not None and str(issue.key) not in title:
            blocks.append(text_block(str(issue.key), (MUTED,)))
        if issue.subtitle.strip() and self.plain(issue.subtitle) not in title:
            blocks.append(Block("para", self.md.line(issue.subtitle)))
        if issue.tagline.strip():
            blocks.append(Block("para", self._styled(self.md.line(issue.tagline), ITALIC)))
        ref = issue.key if issue.key is not None else issue.number
        web = issue_url(self.public_url, issue.series.slug, ref) if ref is not None else None
        if web is not None:
            blocks.append(Block("para", (_linked(self.labels.read_on_web, web),)))
        return Unit(tuple(blocks))

    def preamble(self, issue: Issue) -> list[Unit]:
        units: list[Unit] = []
        if issue.intro.strip():
            units.append(self.intro(issue.intro))
        notes = self.notes(issue.notes)
        if notes:
            units.append(Unit(tuple(notes)))
        if issue.quick_news:
            heading = text_block(self.labels.quick_news, kind="heading", gap_before=True)
            items = [self._bullet(news) for news in issue.quick_news]
            units.extend(self._grouped(heading, [i for i in items if i]))
        return units

    def notes(self, notes: Iterable[str]) -> list[Block]:
        """Remarks such as "注：..." lines, in italics, after a blank line."""
        blocks = [self._styled_block(b, ITALIC) for note in notes for b in self.md.blocks(note)]
        if blocks:
            first = blocks[0]
            blocks[0] = Block(first.kind, first.runs, first.prefix, gap_before=True)
        return blocks

    def intro(self, intro: str) -> Unit:
        blocks = self.md.blocks(intro, kind="quote")
        if not blocks:
            return Unit(())
        first = blocks[0]
        runs = first.runs
        if not first.text.lstrip().startswith(self.labels.intro):
            label = Run(f"{self.labels.intro}{self.labels.colon}", (BOLD,))
            runs = (label, *runs)
        blocks[0] = Block("quote", runs, first.prefix, gap_before=True)
        return Unit(tuple(blocks))

    def section(self, section: Section, render_entry: EntryView) -> list[Unit]:
        heading = text_block(
            self.plain(section.heading) or section.key, kind="heading", gap_before=True
        )
        notes = self.notes(section.notes)
        if notes:
            notes[0] = Block(notes[0].kind, notes[0].runs, notes[0].prefix)
        entries = [render_entry(e, n) for n, e in enumerate(section.entries, start=1)]
        if not entries:
            return [Unit((heading, *notes))] if notes else []
        entries[0] = notes + entries[0]
        return self._grouped(heading, entries)

    def full_entry(self, entry: Entry, number: int | None, with_label: bool = False) -> list[Block]:
        blocks = [self.title_line(entry, number)]
        extra = self.links_line(entry)
        if extra:
            blocks.append(extra)
        summary = self.md.blocks(entry.summary)
        if number is not None:
            # A list in the summary belongs to its numbered entry: indented under the
            # title, its "1." no longer reads as the section's next entry.
            summary = [_nested(block) for block in summary]
        if summary and with_label:
            first = summary[0]
            label = Run(f"{self.labels.summary}{self.labels.colon}", (BOLD,))
            summary[0] = Block(first.kind, (label, *first.runs), first.prefix)
        return blocks + summary

    def digest_entry(self, entry: Entry, number: int | None) -> list[Block]:
        return [self.title_line(entry, number, gap=False)]

    def title_line(self, entry: Entry, number: int | None, gap: bool = True) -> Block:
        """Title and source as plain text: markup in them is shown as its text."""
        runs = [_linked(self.title_text(entry.title, entry.url), entry.url, BOLD)]
        source = self.plain(entry.source or "")
        if source:
            runs += [Run(" — "), Run(source, (MUTED,))]
        prefix = f"{number}. " if number is not None else ""
        return Block("para", tuple(runs), prefix=prefix, gap_before=gap)

    def title_text(self, title: str, url: str | None) -> str:
        return self.plain(title) or one_line(url or "") or "—"

    def links_line(self, entry: Entry) -> Block | None:
        runs: list[Run] = []
        items = [(self.plain(x.label), x.url) for x in entry.links]
        arxiv = one_line(entry.arxiv_id or "")
        linked = [entry.url or "", *(x.url for x in entry.links)]
        if arxiv and not any(arxiv in u for u in linked):
            items.insert(0, (f"arXiv:{arxiv}", f"https://arxiv.org/abs/{arxiv}"))
        for label, url in items:
            if not label and not is_web_url(url):
                continue
            if runs:
                runs.append(Run(" | "))
            runs.append(_linked(label or url, url))
        return Block("para", tuple(runs)) if runs else None

    def search_header(self, page: SearchPageLike) -> Unit:
        query = one_line(page.query)
        parts = []
        if page.total is not None:
            parts.append(self.labels.result_count(page.total))
        pages = self._pages(page)
        if pages:
            parts.append(self.labels.page_of.format(page=page.page, pages=pages))
        else:
            parts.append(self.labels.page.format(page=page.page))
        return Unit(
            (
                text_block(self.labels.search.format(query=query), kind="heading", level=1),
                text_block(" · ".join(parts), (MUTED,)),
            )
        )

    def hit(self, hit: SearchHitLike, number: int) -> Unit:
        title = Block("para", self.title_line_runs(hit), prefix=f"{number}. ", gap_before=True)
        number = getattr(hit, "issue_number", None)  # a numbered series names it by number
        issue = hit.issue_key if number is None else f"#{number}"
        meta = text_block(f"{issue} · {self.plain(hit.section_heading)}", (MUTED,))
        snippet = Block("para", _marked(hit.snippet))
        return Unit((title, meta, snippet))

    def title_line_runs(self, hit: SearchHitLike) -> tuple[Run, ...]:
        runs = [_linked(self.title_text(hit.title, hit.url), hit.url, BOLD)]
        source = self.plain(hit.source or "")
        if source:
            runs += [Run(" — "), Run(source, (MUTED,))]
        return tuple(runs)

    # -- helpers -----------------------------------------------------------

    def _bullet(self, source: str) -> list[Block]:
        blocks = self.md.blocks(source)
        if blocks and not blocks[0].prefix:
            first = blocks[0]
            blocks[0] = Block(first.kind, first.runs, "• ")
        return blocks

    def _grouped(self, heading: Block, items: Sequence[list[Block]]) -> list[Unit]:
        """A heading kept with the first item; later items repeat it marked as continued."""
        heading = Block(heading.kind, heading.runs, "", heading.gap_before, True, heading.level)
        continued = self.labels.continued.format(heading=heading.text)
        context = text_block(continued, kind=heading.kind, keep_with_next=True, level=heading.level)
        items = [i for i in items if i]
        if not items:
            return []
        units = [Unit((heading, *items[0]), context, opens_context=True)]
        units += [Unit(tuple(item), context) for item in items[1:]]
        return units

    @staticmethod
    def _styled(runs: tuple[Run, ...], style: Style) -> tuple[Run, ...]:
        return tuple(Run(r.text, (style, *r.styles)) for r in runs)

    def _styled_block(self, block: Block, style: Style) -> Block:
        return Block(block.kind, self._styled(block.runs, style), block.prefix, block.gap_before)

    @staticmethod
    def _pages(page: SearchPageLike) -> int:
        if page.total is None or not page.page_size:
            return 0
        return max(1, -(-page.total // page.page_size))


def _linked(text: str, url: str | None, *styles: Style) -> Run:
    if url and is_web_url(url):
        return Run(text, (*styles, link(url)))
    return Run(text, styles)


def _marked(snippet: str) -> tuple[Run, ...]:
    """Runs of a search snippet, matches (\\x02...\\x03) styled as MARK."""
    runs: list[Run] = []
    marked = False
    buf: list[str] = []
    for char in snippet:
        if char in (MARK_START, MARK_END):
            if buf:
                runs.append(Run(_flat("".join(buf)), (MARK,) if marked else ()))
                buf = []
            marked = char == MARK_START
        else:
            buf.append(char)
    if buf:
        runs.append(Run(_flat("".join(buf)), (MARK,) if marked else ()))
    return tuple(r for r in runs if r.text)


def _flat(text: str) -> str:
    """Clean a snippet fragment, keeping the spaces around a match."""
    return clean(text).replace("\n", " ")


ENTRY_INDENT = "   "  # the width of an entry number ("4. ")


def _nested(block: Block) -> Block:
    if not block.prefix.strip():
        return block
    return replace(block, prefix=ENTRY_INDENT + block.prefix)
