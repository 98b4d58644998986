"""Deliveries seeded the way publication stores them, with messages chosen by the test.

Real renderings give a robot one message per issue; crash tests need many messages per chat
to kill a push in the middle, so they store their own (within WeCom's byte limits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.deliveries.writes import DeliveryItem, create_deliveries
from storage.subscribers import get_or_create

Sessions = async_sessionmaker[AsyncSession]


def markdown_messages(key: str, count: int) -> list[dict[str, object]]:
    """`count` distinct WeCom markdown messages of the rendering `key`."""
    texts = [f"## {key} 简报 {n + 1}/{count}\n> 第{n + 1}部分：端侧推理" for n in range(count)]
    return [
        {"text": t, "format": "markdown", "size": len(t.encode()), "unit": "bytes"} for t in texts
    ]


async def seed_deliveries(
    sessions: Sessions,
    issue_id: int,
    platform: str,
    chats: Mapping[str, tuple[str, Sequence[Mapping[str, object]]]],
) -> dict[str, list[str]]:
    """chat id -> (rendering key, messages): one pending delivery each; chat id -> texts.

    Chats starting with `robot:` are groups, the rest users; subscribers are created when
    missing (robots normally come from `sync_robots`).
    """
    items = []
    async with sessions.begin() as session:
        for chat_id, (key, messages) in chats.items():
            kind = "group" if chat_id.startswith("robot:") else "user"
            subscriber, _ = await get_or_create(session, platform, chat_id, kind=kind)
            items.append(DeliveryItem(subscriber.id, key, platform, messages))
        await create_deliveries(session, issue_id, items, datetime.now(UTC))
    return {chat: [str(m["text"]) for m in messages] for chat, (_, messages) in chats.items()}
