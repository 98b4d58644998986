"""What the command core needs from the outside world, injected by the entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.flood import DEFAULT_FLOOD, FloodPolicy
from bot.commands.group_admins import ChatAdmins
from bot.config import Settings
from bot.publish.results import PublishResult
from briefings.model import Series
from briefings.taxonomy import Taxonomy
from storage.clock import utcnow
from storage.subscribers import series_key

if TYPE_CHECKING:
    from bot.publish.correction_preview import CorrectionPreview
    from bot.runtime import Runtime
    from bot.series_sections import SeenSections


class Publisher(Protocol):
    """Pushes an issue to subscribers (used by /preview and /publish)."""

    async def publish(self, key: date | int, dry_run: bool, series: str = "") -> PublishResult:
        """Publish (or with `dry_run` only plan) the issue dated `key` (numbered, an int)
        of `series` (a slug; "": the primary one): what came of it, as data for the
        command core to say in the admin's language."""
        ...


class CorrectionPreviewer(Protocol):
    """Plans, without sending, the correction of a published issue (/preview correction)."""

    async def preview(
        self, key: date | int | None, now: datetime, series: str = ""
    ) -> CorrectionPreview:
        """What an edit of issue `key` (an int: a numbered series' issue number; None:
        the newest published one) of `series` (a slug; "": the primary one) would correct."""
        ...


@dataclass(frozen=True, slots=True)
class SeriesChoice:
    """A configured series as readers choose it (/series, `/latest SLUG`)."""

    series: Series
    taxonomy: Taxonomy
    key: str  # its subscriptions' series (storage.subscribers.series_key): '' = primary
    default_subscription: bool = True


@dataclass(frozen=True, slots=True)
class CoreDeps:
    sessions: async_sessionmaker[AsyncSession]
    series: Series  # the series commands are about (the primary one, unless switched)
    taxonomy: Taxonomy
    settings: Settings
    clock: Callable[[], datetime]  # aware UTC now
    bot_username: str = ""  # without "@"; "" accepts /cmd@anything
    publisher: Publisher | None = None
    corrections: CorrectionPreviewer | None = None  # None: /preview correction unavailable
    flood: FloodPolicy = DEFAULT_FLOOD
    # platform -> who administers a group there; a platform without an entry lets
    # anyone in a group change the group's subscription (bot/commands/group_admins.py)
    chat_admins: Mapping[str, ChatAdmins] = field(default_factory=dict)
    # Every configured series, the primary first; empty or one: readers see no series.
    catalog: tuple[SeriesChoice, ...] = ()
    subscription_series: str = ""  # `series`' key in the subscriptions ('' = primary)
    # The sections free-heading series' issues have (bot/series_sections.py); None: the
    # taxonomies as given.
    sections_seen: SeenSections | None = None

    @property
    def several_series(self) -> bool:
        return len(self.catalog) > 1

    @property
    def is_primary(self) -> bool:
        return self.subscription_series == ""

    def find_series(self, name: str) -> SeriesChoice | None:
        """The series a reader named: by slug or title, case-insensitive."""
        wanted = name.strip().casefold()
        return next(
            (
                c
                for c in self.catalog
                if wanted in (c.series.slug.casefold(), c.series.title.casefold())
            ),
            None,
        )

    def in_series(self, choice: SeriesChoice) -> CoreDeps:
        return replace(
            self,
            series=choice.series,
            taxonomy=choice.taxonomy,
            subscription_series=choice.key,
        )

    @classmethod
    def from_runtime(
        cls,
        runtime: Runtime,
        *,
        bot_username: str = "",
        publisher: Publisher | None = None,
        chat_admins: Mapping[str, ChatAdmins] | None = None,
    ) -> CoreDeps:
        # Built here, not in bot/app.py: it needs only the runtime, and every entry point
        # (the bot, the terminal chat) gets it without wiring of its own.
        from bot.publish.correction_preview import CorrectionPreviewer as Previewer

        return cls(
            sessions=runtime.sessions,
            series=runtime.series,
            taxonomy=runtime.taxonomy,
            settings=runtime.settings,
            clock=utcnow,
            bot_username=bot_username,
            publisher=publisher,
            corrections=Previewer(runtime),
            chat_admins=dict(chat_admins or {}),
            catalog=series_catalog(runtime),
            sections_seen=runtime.sections_seen,
        )


def series_catalog(runtime: Runtime) -> tuple[SeriesChoice, ...]:
    return tuple(
        SeriesChoice(
            view.series,
            view.taxonomy,
            series_key(view.series.slug, runtime.primary_slug),
            view.settings.primary_series.default_subscription,
        )
        for view in runtime.each_series()
    )
