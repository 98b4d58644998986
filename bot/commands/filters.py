"""Filters around handlers (the aiogram 3 way): who may run a command, and where.

The router attaches them from the command table's flags (`admin`, `groups`), so no
handler module decides these rules itself. A filter looks at the update before any
handler runs and either lets it through (None), drops it silently (`IGNORE`: it was
not for us) or refuses it with a text (`Refuse`). Drops happen before the flood
guard counts the update; refusals are answered like any reply, after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final, Protocol

from bot.commands.parsing import SLASHES
from bot.commands.types import Incoming, Invocation

SHARED_CHATS: Final = frozenset({"group", "channel"})


@dataclass(frozen=True, slots=True)
class Update:
    """What a filter sees: the user's action, and the command it was parsed as (if any)."""

    incoming: Incoming
    invocation: Invocation | None = None

    @property
    def shared_chat(self) -> bool:
        return self.incoming.chat.kind in SHARED_CHATS


class Ignore(Enum):
    IGNORE = "ignore"


IGNORE: Final = Ignore.IGNORE


@dataclass(frozen=True, slots=True)
class Refuse:
    key: str  # the bot.i18n text to answer with


Decision = Ignore | Refuse | None


class Filter(Protocol):
    def __call__(self, update: Update) -> Decision: ...


class AdminOnly:
    """Commands and buttons for the operators (the adapter marks them from config)."""

    def __call__(self, update: Update) -> Decision:
        return None if update.incoming.is_admin else Refuse("admin_only")


class GroupNeedsMention:
    """In a group, answer only `/cmd@ourbot`: every bot there receives a bare `/cmd`."""

    def __call__(self, update: Update) -> Decision:
        mentioned = update.invocation is not None and update.invocation.mentioned
        return IGNORE if update.shared_chat and not mentioned else None


class GroupIgnoresChatter:
    """Plain text in a group is people talking to each other, not to us."""

    def __call__(self, update: Update) -> Decision:
        return IGNORE if update.shared_chat else None


class NotForUs:
    """Blank text, or a slash command that did not parse (`/cmd@otherbot`, `/usr/bin`)."""

    def __call__(self, update: Update) -> Decision:
        text = update.incoming.text.strip()
        return IGNORE if not text or text[0] in SLASHES else None


def decide(filters: tuple[Filter, ...], update: Update) -> Decision:
    """The first filter's objection, or None when all let the update through."""
    for check in filters:
        decision = check(update)
        if decision is not None:
            return decision
    return None
