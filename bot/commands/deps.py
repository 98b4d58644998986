"""What the command core needs from the outside world, injected by the entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.flood import DEFAULT_FLOOD, FloodPolicy
from bot.config import Settings
from briefings.model import Series
from briefings.taxonomy import Taxonomy


class Publisher(Protocol):
    """Pushes an issue to subscribers (used by /preview and /publish)."""

    async def publish(self, key: date, dry_run: bool) -> str:
        """Publish (or with `dry_run` only plan) the issue `key`; a one-paragraph summary."""
        ...


@dataclass(frozen=True, slots=True)
class CoreDeps:
    sessions: async_sessionmaker[AsyncSession]
    series: Series
    taxonomy: Taxonomy
    settings: Settings
    clock: Callable[[], datetime]  # aware UTC now
    bot_username: str = ""  # without "@"; "" accepts /cmd@anything
    publisher: Publisher | None = None
    flood: FloodPolicy = DEFAULT_FLOOD
