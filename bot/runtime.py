"""The resources a command needs, owned by one async context (built only by the entry point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from briefings.model import Series
from briefings.taxonomy import Taxonomy
from storage.db import create_engine, session_factory, upgrade_database


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    series: Series
    taxonomy: Taxonomy


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
    if settings.series.sections:
        taxonomy = taxonomy.with_section_headings(settings.series.sections)
    return taxonomy


@asynccontextmanager
async def open_runtime(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Runtime]:
    engine = create_engine(settings.storage.url)
    try:
        if migrate:
            await upgrade_database(engine)
        yield Runtime(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            series=Series(settings.series.slug, settings.series.title),
            taxonomy=build_taxonomy(settings),
        )
    finally:
        await engine.dispose()
