"""WeCom group robots from `[[wecom.robots]]` as subscribers, so publication renders for them.

Each robot is the subscriber `wecom:robot:<digest of its key>` of kind "group" (the
publisher renders groups with the robot's 4096-byte limit); its subscriptions follow the
config (no sections and no topics: everything). The key itself never enters the database.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import WecomRobotSettings, WecomSettings
from bot.platforms.wecom.sender import ROBOT_PREFIX
from briefings.taxonomy import Taxonomy
from storage.subscribers import (
    ALL,
    Subscription,
    deactivate,
    get_or_create,
    iter_active,
    set_subscriptions,
)


def robot_chat_id(key: str) -> str:
    return ROBOT_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]


def robot_keys(settings: WecomSettings) -> dict[str, str]:
    """Robot chat id -> webhook key."""
    return {
        robot_chat_id(r.key.get_secret_value()): r.key.get_secret_value() for r in settings.robots
    }


def robot_subscriptions(robot: WecomRobotSettings, taxonomy: Taxonomy) -> list[Subscription]:
    """Sections and topics by key or any name the taxonomy knows; none: everything."""
    chosen = [Subscription("section", _key(taxonomy, n, "section")) for n in robot.sections]
    chosen += [Subscription("topic", _key(taxonomy, n, "topic")) for n in robot.topics]
    return chosen or [ALL]


def _key(taxonomy: Taxonomy, name: str, kind: str) -> str:
    found = taxonomy.resolve(name)
    return found[1] if found is not None and found[0] == kind else name


async def sync_robots(
    sessions: async_sessionmaker[AsyncSession],
    settings: WecomSettings,
    taxonomy: Taxonomy,
    now: datetime | None = None,
) -> int:
    """Create / update the configured robots' subscribers, deactivate removed ones."""
    now = now or datetime.now(UTC)
    wanted = {robot_chat_id(r.key.get_secret_value()): r for r in settings.robots}
    async with sessions.begin() as session:
        for chat_id, robot in wanted.items():
            subscriber, _ = await get_or_create(session, "wecom", chat_id, kind="group", now=now)
            await set_subscriptions(session, subscriber.id, robot_subscriptions(robot, taxonomy))
    gone = []
    async for batch in iter_active(sessions, "wecom", include_paused=True):
        gone += [
            s.id for s in batch if s.chat_id.startswith(ROBOT_PREFIX) and s.chat_id not in wanted
        ]
    async with sessions.begin() as session:
        for subscriber_id in gone:
            await deactivate(session, subscriber_id, "robot removed from config", now)
    return len(wanted)
