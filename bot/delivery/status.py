"""Delivery progress per issue and platform: counts, rate, ETA, and a text progress bar."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.pauses import paused_issues
from storage.deliveries.status import PlatformProgress, delivery_progress, issues_with_deliveries
from storage.issues import find_issue_id, find_numbered_id, get_summary, issue_label

RATE_WINDOW = timedelta(seconds=60)  # one-shot rate: deliveries completed this recently
BAR_WIDTH = 24


@dataclass(frozen=True, slots=True)
class PlatformStatus:
    platform: str
    sent: int  # deliveries
    pending: int  # pending + sending
    failed: int
    dropped: int  # chat gone, subscriber deactivated
    messages_sent: int
    messages_total: int
    messages_left: int
    rate: float  # messages per second
    eta_seconds: float | None

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.dropped

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else (self.total - self.pending) / self.total


@dataclass(frozen=True, slots=True)
class IssueStatus:
    issue_id: int
    key: date | None  # None: an undated issue of a numbered series (`number` names it)
    paused: str | None  # why, when an error burst or an admin paused it
    platforms: tuple[PlatformStatus, ...]
    number: int | None = None

    @property
    def label(self) -> str:
        return issue_label(self.key, self.number)

    @property
    def done(self) -> bool:
        return all(p.pending == 0 for p in self.platforms)


class RateMeter:
    """msg/s from successive snapshots (for --watch), over the last `span` seconds."""

    def __init__(self, span: float = 10.0) -> None:
        self._span = span
        self._samples: dict[tuple[int, str], deque[tuple[float, int]]] = {}

    def rate(self, key: tuple[int, str], at: float, messages_sent: int) -> float | None:
        samples = self._samples.setdefault(key, deque())
        samples.append((at, messages_sent))
        while len(samples) > 2 and at - samples[0][0] > self._span:
            samples.popleft()
        (t0, m0), (t1, m1) = samples[0], samples[-1]
        return (m1 - m0) / (t1 - t0) if t1 > t0 else None


async def issue_statuses(
    session: AsyncSession,
    series_slug: str,
    key: date | int | None,
    now: datetime,
    meter: RateMeter | None = None,
    at: float = 0.0,
) -> list[IssueStatus] | None:
    """The issue `key` (a date, or an int: a numbered series' issue number; None if
    unknown), or with no key every unfinished issue plus the newest one."""
    if key is not None:
        chosen = await _one(session, series_slug, key)
        if chosen is None:
            return None
    else:
        found = await issues_with_deliveries(session, series_slug)
        chosen = [
            (i.issue_id, i.key, i.number) for n, i in enumerate(found) if n == 0 or i.unfinished
        ]
    paused = await paused_issues(session)
    statuses = []
    for issue_id, issue_key, number in chosen:
        progress = await delivery_progress(session, issue_id, now - RATE_WINDOW)
        platforms = tuple(_platform(p, issue_id, meter, at) for p in progress)
        reason = paused.get(issue_id, {}).get("reason") if issue_id in paused else None
        statuses.append(IssueStatus(issue_id, issue_key, reason, platforms, number))
    return statuses


async def _one(
    session: AsyncSession, series_slug: str, key: date | int
) -> list[tuple[int, date | None, int | None]] | None:
    """The issue asked for by date or number, with both (the one asked may be all it
    has); None when the series has no such issue."""
    if isinstance(key, int):
        issue_id = await find_numbered_id(session, series_slug, key)
    else:
        issue_id = await find_issue_id(session, series_slug, key)
    summary = None if issue_id is None else await get_summary(session, issue_id)
    return None if summary is None else [(summary.id, summary.key, summary.number)]


def _platform(
    progress: PlatformProgress, issue_id: int, meter: RateMeter | None, at: float
) -> PlatformStatus:
    rate = progress.recent_messages / RATE_WINDOW.total_seconds()
    if meter is not None:
        live = meter.rate((issue_id, progress.platform), at, progress.messages_sent)
        rate = rate if live is None else live
    counts = progress.counts
    pending = counts["pending"] + counts["sending"]
    eta = progress.messages_left / rate if rate > 0 and pending else None
    return PlatformStatus(
        platform=progress.platform,
        sent=counts["sent"],
        pending=pending,
        failed=counts["failed"],
        dropped=counts["dropped"],
        messages_sent=progress.messages_sent,
        messages_total=progress.messages_total,
        messages_left=progress.messages_left,
        rate=rate,
        eta_seconds=0.0 if not pending else eta,
    )


# ---- rendering -------------------------------------------------------------------------


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def render(statuses: list[IssueStatus]) -> str:
    if not statuses:
        return "no deliveries yet"
    lines = []
    for issue in statuses:
        state = "PAUSED" if issue.paused else ("done" if issue.done else "delivering")
        lines.append(f"{issue.label}  {state}")
        if issue.paused:
            lines.append(f"  {issue.paused}")
        for p in issue.platforms:
            lines.append(
                f"  {p.platform:<9}{bar(p.fraction)} {p.fraction:4.0%}  sent {p.sent}  "
                f"pending {p.pending}  failed {p.failed}  dropped {p.dropped}  "
                f"msgs {p.messages_sent}/{p.messages_total}  {p.rate:.1f} msg/s  "
                f"ETA {duration(p.eta_seconds)}"
            )
    return "\n".join(lines)


def to_json(statuses: list[IssueStatus]) -> list[dict[str, Any]]:
    return [
        {
            "issue_id": issue.issue_id,
            "key": issue.key.isoformat() if issue.key else None,  # undated: a numbered series
            "number": issue.number,
            "paused": issue.paused,
            "done": issue.done,
            "platforms": [
                {**asdict(p), "total": p.total, "progress": round(p.fraction, 4)}
                for p in issue.platforms
            ],
        }
        for issue in statuses
    ]
