"""Switches admins flip from the chat, kept in `app_state` so every instance reads them.

Corrections (bot/publish/corrections.py): the configuration key `publish.corrections`
is the default and a hard off; `/corrections off` in the chat switches them off on top
of it, `/corrections on` back (the configuration still wins when it says off). While
off, the delivery engine claims no correction: those queued wait, and when switched back
on go out or, past their issue's window at that moment, are dropped
(bot/delivery/correction_terms.py: the switch's `at` is that moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.state import get_entry, set_value

CORRECTIONS_KEY = "switch:corrections"


@dataclass(frozen=True, slots=True)
class Switch:
    on: bool
    by: str  # who flipped it ("platform:chat_id"); "" when never flipped
    at: datetime | None  # when; None when never flipped


async def corrections_switch(session: AsyncSession) -> Switch:
    """The chat's switch of corrections: on unless an admin switched them off."""
    found = await get_entry(session, CORRECTIONS_KEY)
    if found is None or not isinstance(found[0], dict):
        return Switch(True, "", None)
    value, at = found
    return Switch(value.get("on") is not False, str(value.get("by", "")), at)


async def switch_corrections(session: AsyncSession, on: bool, by: str, now: datetime) -> None:
    await set_value(session, CORRECTIONS_KEY, {"on": on, "by": by}, now)
