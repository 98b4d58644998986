"""The operator's charts as PNG bytes: for the web operator page and Telegram `/stats`.

    pngs = await chart_pngs(session)      # {"subscribers": b"\\x89PNG...", ...}

Each `*_png` function is pure (data in, PNG bytes out) and may run in a worker thread:
it draws on its own `Figure` with the Agg canvas, never through pyplot's global state.
matplotlib is imported inside them, so loading this module costs nothing. Labels are in
English and ASCII: a server's fonts may have no CJK glyphs, and a chart of boxes helps
nobody.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.web_queries import (
    IssueDeliveryCounts,
    SubscriberSpan,
    deliveries_per_issue,
    last_publication_sends,
    subscriber_spans,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHART_NAMES = ("subscribers", "deliveries", "send-rate")
SIZE = (8.0, 4.0)  # inches at 100 dpi: 800 x 400 px, legible on a phone in Telegram too
COLORS = {"sent": "#2e7d32", "failed": "#c62828", "pending": "#f9a825"}


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _empty(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def active_counts(
    spans: Sequence[SubscriberSpan],
) -> dict[str, list[tuple[datetime, int]]]:
    """Per platform, the number of active subscribers after each join or leave."""
    events: dict[str, list[tuple[datetime, int]]] = {}
    for span in spans:
        events.setdefault(span.platform, []).append((span.created_at, 1))
        if span.deactivated_at is not None:
            events[span.platform].append((span.deactivated_at, -1))
    steps: dict[str, list[tuple[datetime, int]]] = {}
    for platform, changes in sorted(events.items()):
        total, points = 0, []
        for when, change in sorted(changes):
            total += change
            points.append((when, total))
        steps[platform] = points
    return steps


def subscribers_png(spans: Sequence[SubscriberSpan], now: datetime | None = None) -> bytes:
    figure, axes = _figure()
    steps = active_counts(spans)
    if not steps:
        _empty(axes, "no subscribers yet")
    end = now or datetime.now(UTC)
    for platform, points in steps.items():
        xs = [when for when, _ in points] + [max(end, points[-1][0])]
        ys = [count for _, count in points] + [points[-1][1]]
        axes.step(xs, ys, where="post", label=f"{platform} ({ys[-1]})")
    if steps:
        axes.set_ylabel("active subscribers")
        axes.legend(loc="upper left")
        axes.grid(alpha=0.3)
        figure.autofmt_xdate()
    axes.set_title("Subscribers over time, per platform")
    return _png(figure)


def deliveries_png(counts: Sequence[IssueDeliveryCounts]) -> bytes:
    figure, axes = _figure()
    if not counts:
        _empty(axes, "no deliveries yet")
    else:
        labels = [c.key.isoformat() for c in counts]
        xs = range(len(counts))
        bottom = [0] * len(counts)
        for status in ("sent", "failed", "pending"):
            values = [getattr(c, status) for c in counts]
            axes.bar(xs, values, bottom=bottom, label=status, color=COLORS[status])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_xticks(list(xs), labels, rotation=45, ha="right")
        axes.set_ylabel("deliveries")
        axes.legend(loc="upper left")
        axes.grid(axis="y", alpha=0.3)
    axes.set_title("Deliveries per issue (sent, failed, pending)")
    return _png(figure)


def per_minute(times: Sequence[datetime]) -> list[tuple[datetime, int]]:
    """Deliveries finished in each minute from the first to the last (gaps are zeros)."""
    if not times:
        return []
    minutes = Counter(t.replace(second=0, microsecond=0) for t in times)
    first, last = min(minutes), max(minutes)
    span = int((last - first).total_seconds() // 60) + 1
    return [
        (first + timedelta(minutes=i), minutes.get(first + timedelta(minutes=i), 0))
        for i in range(span)
    ]


def send_rate_png(issue: date | None, times: Sequence[datetime]) -> bytes:
    figure, axes = _figure()
    rate = per_minute(times)
    if not rate:
        _empty(axes, "no publication sent yet")
        axes.set_title("Send rate during the last publication")
    else:
        axes.bar([m for m, _ in rate], [n for _, n in rate], width=1 / 1440, align="edge")
        axes.set_ylabel("deliveries sent per minute")
        axes.grid(axis="y", alpha=0.3)
        figure.autofmt_xdate()
        label = issue.isoformat() if issue else "?"
        axes.set_title(f"Send rate during the last publication ({label}, {len(times)} sent)")
    return _png(figure)


async def chart_data(session: AsyncSession) -> dict[str, Any]:
    issue, times = await last_publication_sends(session)
    return {
        "subscribers": await subscriber_spans(session),
        "deliveries": await deliveries_per_issue(session),
        "send-rate": (issue, times),
    }


def draw(name: str, data: dict[str, Any]) -> bytes:
    """One chart from `chart_data`'s result (CPU-bound: call it in a thread)."""
    if name == "subscribers":
        return subscribers_png(data["subscribers"])
    if name == "deliveries":
        return deliveries_png(data["deliveries"])
    if name == "send-rate":
        return send_rate_png(*data["send-rate"])
    raise KeyError(name)


async def chart_pngs(session: AsyncSession) -> dict[str, bytes]:
    """Every chart, drawn off the event loop: what Telegram `/stats` sends admins."""
    data = await chart_data(session)
    return {name: await asyncio.to_thread(draw, name, data) for name in CHART_NAMES}
