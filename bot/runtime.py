"""The resources a command needs, owned by one async context (built only by the entry point).

Several series share one runtime's engine: `Runtime.each_series()` gives one view per
series whose `settings` are that series' (its one `series` table, its sources, publish
schedule and topics), with the series' taxonomy and layout. The runtime `open_runtime`
yields is the primary (first) series' view, so code written for one series keeps
working on it unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings, layout_of
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

    def each_series(self) -> list[Runtime]:
        """One runtime view per configured series, the primary one first."""
        views = (self.all_settings or self.settings).series_views()
        return [self if view.series is self.settings.series else self._view(view) for view in views]

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
            taxonomy=build_taxonomy(view),
            layout=layout_of(view.primary_series.layout),
        )


def build_taxonomy(settings: Settings) -> Taxonomy:
    """Defaults, with the topics replaced and the section headings extended by config."""
    taxonomy = Taxonomy.default()
    if settings.topics is not None:
        topics = {
            key: (t.zh or key, t.en or key, tuple(t.keywords), tuple(t.aliases))
            for key, t in settings.topics.items()
        }
        sections = {s.key: (s.zh, s.en, s.names) for s in taxonomy.sections}
        taxonomy = Taxonomy.from_data(sections, topics)
    sections = settings.primary_series.sections
    if sections:
        taxonomy = taxonomy.with_section_headings(sections)
    return taxonomy


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


@asynccontextmanager
async def open_runtime(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Runtime]:
    """The runtime on `settings`; with `migrate`, the database is checked and migrated first
    (ConfigError, one line, when it cannot be opened: before anything else runs)."""
    engine = _open_engine(settings.storage.url)
    try:
        views = settings.series_views()
        if migrate:
            await _check_database(engine)
            await upgrade_database(engine)
            async with session_factory(engine).begin() as session:
                slugs = [view.primary_series.slug for view in views]
                await adopt_primary(session, slugs[0], slugs)
        primary = views[0]
        yield Runtime(
            settings=primary,
            engine=engine,
            sessions=session_factory(engine),
            series=Series(primary.primary_series.slug, primary.primary_series.title),
            taxonomy=build_taxonomy(primary),
            layout=layout_of(primary.primary_series.layout),
            all_settings=settings,
        )
    finally:
        await engine.dispose()
