"""WeCom group robots from `[[wecom.robots]]` as subscribers, so publication renders for them.

Each robot is the subscriber `wecom:robot:<digest of its key>` of kind "group" (the
publisher renders groups with the robot's 4096-byte limit). The key itself never enters
the database.

Series: a robot follows the series its `series` lists (slugs, checked at config load);
without `series`, every series whose `default_subscription` is true, as /start does for a
new reader (with one series: that series, as before). In each series it follows, its
`sections` and `topics` are resolved with that series' taxonomy (by key or any name the
taxonomy knows; a name under `sections` must be a section, under `topics` a topic):

- no `sections` and no `topics`: everything of the series;
- names the series does not know are ignored for that series (the series may well have
  other sections than another one), the known ones are its subscriptions;
- none of them known: everything of the series if the robot lists the series in `series`
  (the operator asked for that series by name), else nothing of it (a default series the
  robot's choice does not fit, e.g. an English weekly for a robot of `papers`).

Its subscriptions to any other series are cleared, so editing `series` takes effect at the
next sync (every start and every `tick`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.config import WecomRobotSettings, WecomSettings
from bot.platforms.wecom.sender import ROBOT_PREFIX
from bot.runtime import Runtime
from briefings.taxonomy import Taxonomy
from storage.subscribers import (
    ALL,
    Subscription,
    deactivate,
    get_or_create,
    iter_active,
    series_key,
    set_subscriptions,
    subscribed_series,
)

log = logging.getLogger(__name__)


def robot_chat_id(key: str) -> str:
    return ROBOT_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]


def robot_keys(settings: WecomSettings) -> dict[str, str]:
    """Robot chat id -> webhook key."""
    return {
        robot_chat_id(r.key.get_secret_value()): r.key.get_secret_value() for r in settings.robots
    }


def robot_subscriptions(
    robot: WecomRobotSettings, taxonomy: Taxonomy, *, named: bool = True
) -> list[Subscription]:
    """The robot's subscriptions in the series of `taxonomy` (the module docstring's rule);
    `named`: the robot lists that series in its `series`."""
    if not robot.sections and not robot.topics:
        return [ALL]
    chosen = [
        Subscription(kind, key)
        for kind, names in (("section", robot.sections), ("topic", robot.topics))
        for key in _keys(taxonomy, names, kind)
    ]
    return chosen or ([ALL] if named else [])


def _keys(taxonomy: Taxonomy, names: Sequence[str], kind: str) -> list[str]:
    found = [taxonomy.resolve(name) for name in names]
    return sorted({f[1] for f in found if f is not None and f[0] == kind})


def followed_series(robot: WecomRobotSettings, views: Sequence[Runtime]) -> list[str]:
    """The slugs of the series the robot follows."""
    if robot.series:
        return [v.series.slug for v in views if v.series.slug in robot.series]
    return [v.series.slug for v in views if v.settings.primary_series.default_subscription]


def robot_plan(
    robot: WecomRobotSettings, views: Sequence[Runtime]
) -> dict[str, list[Subscription]]:
    """Series slug -> the robot's subscriptions there, for every configured series (empty:
    not following it)."""
    followed = set(followed_series(robot, views))
    return {
        v.series.slug: robot_subscriptions(robot, v.taxonomy, named=v.series.slug in robot.series)
        if v.series.slug in followed
        else []
        for v in views
    }


def _unknown_everywhere(robot: WecomRobotSettings, views: Sequence[Runtime]) -> list[str]:
    """Names no series' taxonomy knows: most likely a typo, which would go unnoticed."""
    return [
        name
        for kind, names in (("section", robot.sections), ("topic", robot.topics))
        for name in names
        if not any(_keys(v.taxonomy, [name], kind) for v in views)
    ]


async def sync_robots(runtime: Runtime, now: datetime | None = None) -> int:
    """Create / update the configured robots' subscribers in every configured series,
    deactivate removed ones."""
    now = now or datetime.now(UTC)
    views, settings = runtime.each_series(), runtime.settings.wecom
    wanted = {robot_chat_id(r.key.get_secret_value()): r for r in settings.robots}
    for index, robot in enumerate(settings.robots):
        if unknown := _unknown_everywhere(robot, views):
            log.warning("wecom.robots.%d: no series knows %s", index, ", ".join(unknown))
    async with runtime.sessions.begin() as session:
        for chat_id, robot in wanted.items():
            subscriber, _ = await get_or_create(session, "wecom", chat_id, kind="group", now=now)
            plan = {
                series_key(slug, runtime.primary_slug): subscriptions
                for slug, subscriptions in robot_plan(robot, views).items()
            }
            # Series no longer configured too: the config is the whole truth for a robot.
            for key in plan.keys() | await subscribed_series(session, subscriber.id):
                await set_subscriptions(session, subscriber.id, plan.get(key, []), series=key)
    gone = []
    async for batch in iter_active(runtime.sessions, "wecom", include_paused=True):
        gone += [
            s.id for s in batch if s.chat_id.startswith(ROBOT_PREFIX) and s.chat_id not in wanted
        ]
    async with runtime.sessions.begin() as session:
        for subscriber_id in gone:
            await deactivate(session, subscriber_id, "robot removed from config", now)
    return len(wanted)
