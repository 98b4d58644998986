"""Whether the engine may claim corrections now (bot/publish/corrections.py writes them).

Corrections off (`publish.corrections = false`, or an admin's `/corrections off`, kept by
storage/switches.py) stops the corrector writing new ones AND the engine claiming the
ones already queued: they stay pending, held, and none is claimed while corrections are
off. Those an engine had claimed before the switch flipped are finished (a claim is one
chat's few operations, or one campaign), as they would be at any clean stop.

Switched back on, a held correction goes out if its issue is still within
`publish.corrections_window_hours` of publication at the moment of the switch, and is
dropped ('dropped', "expired while corrections were off") if not. Why: past the window an
edit only updates the archive; a reader who got the issue days ago and now gets its
"Correction" (or sees an old message change) would be surprised, and one edited within
the window they still expect to see corrected. The moment of the switch, not the engine's
clock, judges, so every instance decides the same for the same row. A configuration hard
off has no such moment: its held corrections go out when the configuration is on again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PublishSettings
from storage import corrections
from storage.switches import corrections_switch


@dataclass(frozen=True, slots=True)
class CorrectionTerms:
    on: bool = True  # publish.corrections: the configuration's hard off
    window: timedelta = timedelta(hours=48)  # publish.corrections_window_hours

    @classmethod
    def from_settings(cls, publish: PublishSettings) -> CorrectionTerms:
        return cls(publish.corrections, timedelta(hours=publish.corrections_window_hours))


class CorrectionGate:
    """Asked before each claim, in the claim's transaction."""

    def __init__(self, terms: CorrectionTerms) -> None:
        self._terms = terms
        self._expired_for: datetime | None = None  # the switch-on whose held rows were judged

    async def open(self, session: AsyncSession, now: datetime) -> bool:
        """True when corrections may be claimed; held ones past their window are dropped
        first (once per switch-on and engine: the rule only looks at rows older than it)."""
        if not self._terms.on:
            return False
        switch = await corrections_switch(session)
        if not switch.on:
            return False
        if switch.at is not None and switch.at != self._expired_for:
            await corrections.expire_held(session, switch.at, switch.at - self._terms.window, now)
            self._expired_for = switch.at
        return True
