"""A series' sections as readers choose them (/sections, /subscribe, `subscribers add`,
the Official Account's tags), following how its layout writes sections:

- `sections = "named"` (the Embedded AI layout, and any layout keeping that mode): the
  taxonomy's sections, i.e. the built-in ones, the series' `sections` headings and the
  layout's `section_names`. With the Embedded AI layout this is exactly the default
  taxonomy, as with one series.
- `sections = "free"` (`numbered-weekly`, `this-week-in`): every `##` heading is a section,
  so the built-in sections are not the series' (a weekly never has 论文 because the
  Embedded AI briefing does). Its sections are those it declares (the layout's
  `section_names`, the series' `sections`), known before any issue, and those its stored
  issues have: a heading's key is `generated_section_key` unless declared
  ("Tool of the week" -> `tool-of-the-week`), and is only known once an issue has it.
- `sections = "flat"`: the one section `flat_section`.

The stored sections (storage.seen_sections: the newest issues' sections with entries,
bounded) are read when the runtime opens, and again by each command that lists or
resolves sections (`SeenSections.taxonomy`, one bounded query); the last read is kept,
so views built without a query (`Runtime.each_series`) have it too.

A section from an issue never takes a name from a topic or another section: one whose key
is already such a name is left out (the topic answers to it), and one whose heading is
gets "heading (key)" as its name. The taxonomy also parses the series' issues, so a
heading stored under an older key keeps that key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from briefings.layout import Layout
from briefings.taxonomy import SectionSpec, Taxonomy, normalize_name
from storage.seen_sections import SeenSection, seen_sections


def sections_from_issues(layout: Layout | None) -> bool:
    """Whether the series' sections are its issues' headings (free headings)."""
    return layout is not None and layout.sections == "free"


def series_sections(
    taxonomy: Taxonomy,
    layout: Layout | None,
    headings: Mapping[str, str],
    seen: Iterable[tuple[str, str]] = (),
) -> Taxonomy:
    """`taxonomy` (built-in sections, the series' topics) with the sections of a series
    written in `layout`, declaring `headings` (heading -> key) and whose issues have the
    `seen` (key, heading) sections; ValueError when a declared name is already taken."""
    mode = "named" if layout is None else layout.sections
    if layout is not None and mode == "flat":
        key = layout.flat_section
        return replace(taxonomy, sections=(SectionSpec(key, key, key),))
    declared = dict(headings)
    if layout is not None:
        declared |= dict(layout.section_names)
    if mode == "named":
        return taxonomy.with_section_headings(declared) if declared else taxonomy
    own = add_sections(
        replace(taxonomy, sections=()), [(k, h) for h, k in declared.items()], strict=True
    )
    return add_sections(own, seen)


def add_sections(
    taxonomy: Taxonomy, sections: Iterable[tuple[str, str]], *, strict: bool = False
) -> Taxonomy:
    """`taxonomy` with the (key, heading) sections added: a known key takes the heading
    as one more name. A name another section or a topic has is ValueError with `strict`,
    else left out (see the module docstring). The same taxonomy when nothing is new."""
    merge = _Merge(taxonomy, strict)
    for key, heading in sections:
        merge.add(key, heading.strip())
    return merge.result()


class _Merge:
    def __init__(self, taxonomy: Taxonomy, strict: bool) -> None:
        self.taxonomy = taxonomy
        self.strict = strict
        self.specs = {s.key: s for s in taxonomy.sections}
        self.claimed: dict[str, str] = {}  # normalised name -> section key, added here
        self.changed = False

    def result(self) -> Taxonomy:
        if not self.changed:
            return self.taxonomy
        return replace(self.taxonomy, sections=tuple(self.specs.values()))

    def free(self, name: str, key: str) -> bool:
        """Whether `name` can name section `key` (unnamed, or already its name)."""
        norm = normalize_name(name)
        if not norm:
            return True
        if norm in self.claimed:
            return self.claimed[norm] == key
        hit = self.taxonomy.resolve(norm)
        return hit is None or hit == ("section", key)

    def claim(self, key: str, *names: str) -> None:
        for name in names:
            self.claimed.setdefault(normalize_name(name), key)

    def refuse(self, name: str, key: str) -> None:
        if not self.strict:
            return
        mine = self.claimed.get(normalize_name(name))
        hit = ("section", mine) if mine is not None else self.taxonomy.resolve(name)
        kind, other = hit or ("", "")
        raise ValueError(f"section {key!r}: the name {name!r} is already the {kind} {other}")

    def add(self, key: str, heading: str) -> None:
        if not key.strip():
            if self.strict:
                raise ValueError(f"the heading {heading!r} has an empty section key")
            return
        if not self.free(key, key):
            self.refuse(key, key)
            return
        spec = self.specs.get(key)
        if spec is None:
            self.create(key, heading)
        elif heading and not self.named(spec, heading):
            if self.free(heading, key):
                self.rename(spec, heading)
            else:
                self.refuse(heading, key)

    def create(self, key: str, heading: str) -> None:
        if heading and not self.free(heading, key):
            self.refuse(heading, key)
            heading = f"{heading} ({key})"  # still the heading readers know it by
        name = heading if heading and self.free(heading, key) else key
        self.specs[key] = SectionSpec(key, name, name)
        self.claim(key, key, name)
        self.changed = True

    @staticmethod
    def named(spec: SectionSpec, heading: str) -> bool:
        norm = normalize_name(heading)
        return any(normalize_name(n) == norm for n in (spec.zh, spec.en, *spec.names))

    def rename(self, spec: SectionSpec, heading: str) -> None:
        """One more heading of a section: one named by a single heading so far (not a
        built-in one) takes a Chinese heading as its Chinese name and a latin one as its
        English name (`工具` / `Tools`)."""
        zh, en = spec.zh, spec.en
        if zh == en and heading.isascii() != zh.isascii():
            if heading.isascii():
                en = heading
            else:
                zh = heading
        names = tuple(n for n in (*spec.names, spec.zh, spec.en, heading) if n not in (zh, en))
        self.specs[spec.key] = replace(spec, zh=zh, en=en, names=tuple(dict.fromkeys(names)))
        self.claim(spec.key, heading)
        self.changed = True


class SeenSections:
    """The sections of each free-heading series' stored issues, as last read."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], slugs: Iterable[str]) -> None:
        self._sessions = sessions
        self._seen: dict[str, tuple[SeenSection, ...]] = dict.fromkeys(slugs, ())
        self.version = 0  # counts the reads that changed something (caches compare it)

    def takes(self, slug: str) -> bool:
        """Whether series `slug` has free headings (its sections come from its issues)."""
        return slug in self._seen

    def of(self, slug: str) -> tuple[SeenSection, ...]:
        return self._seen.get(slug, ())

    async def read(self, *slugs: str) -> None:
        """Read the named series' sections again (none named: every free-heading series)."""
        wanted = [slug for slug in slugs or tuple(self._seen) if slug in self._seen]
        if not wanted:
            return
        async with self._sessions() as session:
            for slug in wanted:
                found = await seen_sections(session, slug)
                if found != self._seen[slug]:
                    self._seen[slug] = found
                    self.version += 1

    async def taxonomy(self, slug: str, taxonomy: Taxonomy) -> Taxonomy:
        """`taxonomy` of series `slug` with the sections its stored issues have now; as it
        is for a series whose layout names its sections."""
        if not self.takes(slug):
            return taxonomy
        await self.read(slug)
        return add_sections(taxonomy, self.of(slug))
