"""Seeding deliveries the way publication does, and the settings the tests run with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DeliverySettings
from bot.delivery import EngineTuning, RateLimits
from storage import deliveries, issues, subscribers
from storage.deliveries.writes import DeliveryItem
from tests.fakes.telegram_limits import RateLimits as ServerLimits
from tests.storage.factories import at, make_issue

Sessions = async_sessionmaker[AsyncSession]

# Telegram's limits x10 on both sides, so an issue to hundreds of chats takes seconds.
FAST = DeliverySettings(
    global_per_second=300,
    private_per_second=10,
    private_burst=3,
    group_per_minute=600,
    workers=16,
    batch_size=100,
    max_attempts=4,
    retry_margin_seconds=0.05,
    error_burst=50,
)
SERVER_LIMITS = ServerLimits(
    global_per_second=300,
    global_burst=300,
    private_per_second=10,
    private_burst=3,
    group_per_minute=600,
    group_burst=5,
)
CLIENT_LIMITS = RateLimits.from_settings(FAST, global_burst=300, group_burst=5)
TUNING = EngineTuning(stale_after=2.0, backoff_base=0.05, backoff_max=0.5, idle_poll=0.1)


@dataclass(frozen=True)
class Seeded:
    issue_id: int
    # chat id -> the texts it must receive, in order
    expected: dict[int, list[str]]
    subscriber_ids: dict[int, int]  # chat id -> subscriber id


def rendering(key: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "text": f"<b>{key}</b> part {n + 1}/{count} 简报",
            "format": "html",
            "size": 20,
            "unit": "utf16",
            "disable_preview": n % 2 == 0,
        }
        for n in range(count)
    ]


# Mixed subscriptions: each is a distinct rendering with its own number of messages.
RENDERINGS = {
    "all": rendering("all", 5),
    "news": rendering("news", 2),
    "papers": rendering("papers", 3),
    "digest": rendering("digest", 1),
    "news+papers": rendering("news+papers", 4),
}


def chat_id_for(n: int) -> int:
    """Every seventh chat is a group, the rest private chats."""
    return -(5000 + n) if n % 7 == 3 else 1000 + n


async def seed(
    sessions: Sessions, chats: int, *, platform: str = "telegram", issue_day: int = 1
) -> Seeded:
    from datetime import date

    keys = list(RENDERINGS)
    expected: dict[int, list[str]] = {}
    subscriber_ids: dict[int, int] = {}
    items: list[DeliveryItem] = []
    async with sessions.begin() as session:
        saved = await issues.save_issue(session, make_issue(date(2025, 3, issue_day)), at(0))
        for n in range(chats):
            chat = chat_id_for(n)
            kind = "group" if chat < 0 else "private"
            sub, _ = await subscribers.get_or_create(session, platform, str(chat), kind=kind)
            key = keys[n % len(keys)]
            subscriber_ids[chat] = sub.id
            expected[chat] = [m["text"] for m in RENDERINGS[key]]
            items.append(DeliveryItem(sub.id, key, platform, RENDERINGS[key]))
        await deliveries.create_deliveries(session, saved.issue_id, items, at(1))
    return Seeded(saved.issue_id, expected, subscriber_ids)


async def counts(sessions: Sessions, issue_id: int, platform: str = "telegram") -> dict[str, int]:
    async with sessions() as session:
        return (await deliveries.status_counts(session, issue_id)).get(platform, {})


def texts(messages: Sequence[Any]) -> list[str]:
    return [m.text for m in messages]
