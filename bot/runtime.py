"""The resources a command needs, owned by one async context (built only by the entry point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings
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
        if migrate:
            await _check_database(engine)
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
