"""Issues whose delivery is paused (by an error burst, or by an admin), kept in app_state.

An error burst pauses the issue on the platform whose sends failed (`platforms`): a
Telegram outage does not hold back the issue's WeCom batches or Official Account mass
sends. An entry without `platforms` (an admin's, or written before platforms were kept)
pauses every platform. Resuming an issue resumes it everywhere.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.ratelimit import Clock
from storage.state import get_value, set_value

PAUSED_KEY = "delivery.paused_issues"


async def paused_issues(session: AsyncSession) -> dict[int, dict[str, Any]]:
    """{issue_id: {"reason", "at"}} of every paused issue."""
    value = await get_value(session, PAUSED_KEY, {}) or {}
    return {int(issue_id): info for issue_id, info in value.items()}


async def pause_issue(
    session: AsyncSession,
    issue_id: int,
    reason: str,
    now: datetime,
    platform: str | None = None,
) -> None:
    """Pause the issue on `platform` (None: everywhere), beside any earlier pause of it."""
    paused = await paused_issues(session)
    earlier = paused.get(issue_id)
    platforms: list[str] | None = [platform] if platform is not None else None
    if earlier is not None:  # paused on more platforms now (None: on every one)
        before = earlier.get("platforms")
        everywhere = before is None or platforms is None
        platforms = None if everywhere else sorted({*before, *(platforms or [])})
    info: dict[str, Any] = {"reason": reason, "at": now.isoformat()}
    if platforms is not None:
        info["platforms"] = platforms
    paused[issue_id] = info
    await set_value(session, PAUSED_KEY, {str(k): v for k, v in paused.items()}, now)


def paused_pairs(saved: Mapping[int, Mapping[str, Any]]) -> set[tuple[int, str | None]]:
    """(issue, platform) of every pause; platform None: every platform."""
    pairs: set[tuple[int, str | None]] = set()
    for issue_id, info in saved.items():
        platforms = info.get("platforms")
        if platforms is None:
            pairs.add((issue_id, None))
        else:
            pairs.update((issue_id, str(p)) for p in platforms)
    return pairs


async def resume_issue(session: AsyncSession, issue_id: int, now: datetime) -> bool:
    """Let the engine claim the issue's deliveries again; False if it was not paused."""
    paused = await paused_issues(session)
    if paused.pop(issue_id, None) is None:
        return False
    await set_value(session, PAUSED_KEY, {str(k): v for k, v in paused.items()}, now)
    return True


class ErrorBurst:
    """Counts send errors per issue over a sliding window; trips once at `threshold`."""

    def __init__(self, threshold: int, window: float, clock: Clock) -> None:
        self._threshold = threshold
        self._window = window
        self._clock = clock
        self._errors: dict[Hashable, deque[float]] = {}

    def record(self, key: Hashable) -> int | None:
        """Note one error of `key` (an issue on a platform); the count in the window when
        it reaches the threshold, else None."""
        now = self._clock()
        times = self._errors.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._threshold:
            count = len(times)
            times.clear()
            return count
        return None
