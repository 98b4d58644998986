"""Issues whose delivery is paused (by an error burst, or by an admin), kept in app_state."""

from __future__ import annotations

from collections import deque
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


async def pause_issue(session: AsyncSession, issue_id: int, reason: str, now: datetime) -> None:
    paused = await paused_issues(session)
    paused[issue_id] = {"reason": reason, "at": now.isoformat()}
    await set_value(session, PAUSED_KEY, {str(k): v for k, v in paused.items()}, now)


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
        self._errors: dict[int, deque[float]] = {}

    def record(self, issue_id: int) -> int | None:
        """Note one error; the count in the window when it reaches the threshold, else None."""
        now = self._clock()
        times = self._errors.setdefault(issue_id, deque())
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._threshold:
            count = len(times)
            times.clear()
            return count
        return None
