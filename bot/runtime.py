"""The resources a command needs, owned by one async context (built only by the entry point).

Several series share one runtime's engine: `Runtime.each_series()` gives one view per
series whose `settings` are that series' (its one `series` table, its sources, publish
schedule and topics), with the series' taxonomy and layout. The runtime `open_runtime`
yields is the primary (first) series' view, so code written for one series keeps
working on it unchanged.

A series' taxonomy has its own topics and the sections its layout gives it
(bot/series_sections.py): the built-in ones for the Embedded AI layout (exactly the
default taxonomy), and for free `##` headings the declared ones plus those its stored
issues have, read when the runtime opens (`Runtime.sections_seen`; commands read them
again) so that every view built from it has them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings, layout_of
from bot.series_sections import SeenSections, add_sections, sections_from_issues, series_sections
from briefings.layout import Layout
from briefings.model import Series
from briefings.taxonomy import Taxonomy
from storage.db import (
    DatabaseUnavailable,
    check_connection,
    create_engine,
    redact,
    session_factory,
    upgrade_database,
)
from storage.subscribers import adopt_primary


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    series: Series
    taxonomy: Taxonomy
    # None: the Embedded AI parse (`parse_issue` with the series' navigation headings)
    layout: Layout | None = None
    # Every series' settings (the config as loaded); None: just `settings`.
    all_settings: Settings | None = None
    # The sections free-heading series' issues have, as last read; None: none read.
    sections_seen: SeenSections | None = None

    def each_series(self) -> list[Runtime]:
        """One runtime view per configured series, the primary one first."""
        views = (self.all_settings or self.settings).series_views()
        return [
            self._seen_now() if view.series is self.settings.series else self._view(view)
            for view in views
        ]

    def for_series(self, slug: str) -> Runtime | None:
        return next((r for r in self.each_series() if r.series.slug == slug), None)

    @property
    def primary_slug(self) -> str:
        return (self.all_settings or self.settings).primary_series.slug

    @property
    def is_primary(self) -> bool:
        return self.series.slug == self.primary_slug

    def _view(self, view: Settings) -> Runtime:
        return replace(
            self,
            settings=view,
            series=Series(view.primary_series.slug, view.primary_series.title),
            taxonomy=build_taxonomy(view, self._seen(view.primary_series.slug)),
            layout=layout_of(view.primary_series.layout),
        )

    def _seen(self, slug: str) -> tuple[tuple[str, str], ...]:
        return () if self.sections_seen is None else self.sections_seen.of(slug)

    def _seen_now(self) -> Runtime:
        """This view with the sections its issues had when last read (free headings)."""
        seen = self._seen(self.series.slug)
        taxonomy = add_sections(self.taxonomy, seen) if seen else self.taxonomy
        return self if taxonomy is self.taxonomy else replace(self, taxonomy=taxonomy)


def build_taxonomy(settings: Settings, seen: Iterable[tuple[str, str]] = ()) -> Taxonomy:
    """The built-in taxonomy with the series' topics (when configured) and the sections its
    layout gives it (bot/series_sections.py); `seen`: the (key, heading) sections its
    stored issues have, which count for free headings only."""
    taxonomy = Taxonomy.default()
    if settings.topics is not None:
        topics = {
            key: (t.zh or key, t.en or key, tuple(t.keywords), tuple(t.aliases))
            for key, t in settings.topics.items()
        }
        sections = {s.key: (s.zh, s.en, s.names) for s in taxonomy.sections}
        taxonomy = Taxonomy.from_data(sections, topics)
    series = settings.primary_series
    try:
        return series_sections(taxonomy, layout_of(series.layout), series.sections or {}, seen)
    except ValueError as exc:
        raise ConfigError(f"series {series.slug!r}: sections: {exc}") from None


def _open_engine(url: str) -> AsyncEngine:
    try:
        return create_engine(url)
    except OSError as exc:  # the SQLite file's folder cannot be made
        where = redact(url)
        raise ConfigError(f"storage.url: cannot create the folder of {where}: {exc}") from None


async def _check_database(engine: AsyncEngine) -> None:
    """ConfigError (one line, naming storage.url) when the database cannot be opened."""
    try:
        await check_connection(engine)
    except DatabaseUnavailable as exc:
        hint = "; create it with `briefbot db create`" if exc.missing else ""
        raise ConfigError(f"storage.url: {exc}{hint}") from None


def _free_heading_slugs(views: Iterable[Settings]) -> list[str]:
    return [
        view.primary_series.slug
        for view in views
        if sections_from_issues(layout_of(view.primary_series.layout))
    ]


@asynccontextmanager
async def open_runtime(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Runtime]:
    """The runtime on `settings`; with `migrate`, the database is checked and migrated first
    (ConfigError, one line, when it cannot be opened: before anything else runs)."""
    engine = _open_engine(settings.storage.url)
    try:
        views = settings.series_views()
        sessions = session_factory(engine)
        seen = SeenSections(sessions, _free_heading_slugs(views))
        if migrate:
            await _check_database(engine)
            await upgrade_database(engine)
            async with session_factory(engine).begin() as session:
                slugs = [view.primary_series.slug for view in views]
                await adopt_primary(session, slugs[0], slugs)
            await seen.read()
        primary = views[0]
        yield Runtime(
            settings=primary,
            engine=engine,
            sessions=sessions,
            series=Series(primary.primary_series.slug, primary.primary_series.title),
            taxonomy=build_taxonomy(primary, seen.of(primary.primary_series.slug)),
            layout=layout_of(primary.primary_series.layout),
            all_settings=settings,
            sections_seen=seen,
        )
    finally:
        await engine.dispose()
