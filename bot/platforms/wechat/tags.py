"""WeChat user tags mirroring subscriptions: the audience of each mass-send part.

Every section and topic, and "everything", is a part with a tag named `bb:<part>`.
A follower carries the tags of the parts it receives: `all` alone when subscribed to
everything (so it gets one message per issue, not one per section), else one tag per
subscribed section and topic; none while paused or inactive. The adapter syncs a
follower after each command that may change this; `sync_all` reconciles every tag.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.exceptions import WeChatClientException

from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient
from bot.publish.mass import ALL_PART, desired_parts, part_names
from briefings.taxonomy import Taxonomy
from storage.subscribers import get_subscriber, iter_active

log = logging.getLogger(__name__)
__all__ = ["ALL_PART", "TagSync", "desired_parts", "part_names", "sync_tags", "tag_name"]

TAG_PREFIX = "bb:"
TAG_NAME_MAX_BYTES = 30
TAG_BATCH = 50  # openids per batch(un)tagging call
INVALID_TAG = 45159
DUPLICATE_TAG_NAME = 45157
NOT_A_FOLLOWER = frozenset({40003, 43004})

Api = WechatApi[OfficialAccountClient]


def tag_name(part: str) -> str:
    name = TAG_PREFIX + part
    if len(name.encode()) <= TAG_NAME_MAX_BYTES:
        return name
    return TAG_PREFIX + hashlib.sha1(part.encode()).hexdigest()[: TAG_NAME_MAX_BYTES - 3]


def _batches(items: Iterable[str], size: int = TAG_BATCH) -> list[list[str]]:
    ordered = sorted(items)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


class TagSync:
    def __init__(
        self, api: Api, sessions: async_sessionmaker[AsyncSession], taxonomy: Taxonomy
    ) -> None:
        self._api = api
        self._sessions = sessions
        self._parts = part_names(taxonomy)
        self._ids: dict[str, int] | None = None
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, its users

    # --- tags themselves ----------------------------------------------------------------

    async def tag_ids(self, *, refresh: bool = False) -> dict[str, int]:
        """part -> tag id, creating missing tags."""
        if self._ids is not None and not refresh:
            return self._ids
        existing = await self._existing()
        ids: dict[str, int] = {}
        for part in self._parts:
            name = tag_name(part)
            if name not in existing:
                existing[name] = await self._create(name)
            ids[part] = existing[name]
        self._ids = ids
        return ids

    async def _existing(self) -> dict[str, int]:
        tags = await self._api.call(lambda c: c.tag.get())
        return {str(t["name"]): int(t["id"]) for t in tags}

    async def _create(self, name: str) -> int:
        try:
            tag = await self._api.call(lambda c: c.tag.create(name))
        except WeChatClientException as exc:
            if exc.errcode != DUPLICATE_TAG_NAME:
                raise
            return (await self._existing())[name]  # another instance created it meanwhile
        log.info("created WeChat tag %s (%s)", name, tag["id"])
        return int(tag["id"])

    # --- one follower -----------------------------------------------------------------

    async def sync_user(self, openid: str) -> set[str]:
        """Make the follower's tags match its subscriptions; the parts it now carries.

        Syncs of one follower run one at a time, each reading the subscriptions when it
        starts, so the last one leaves the tags matching the last change.
        """
        lock, users = self._locks.get(openid, (asyncio.Lock(), 0))
        self._locks[openid] = (lock, users + 1)
        try:
            async with lock:
                return await self._sync_user_now(openid)
        finally:
            lock, users = self._locks[openid]
            if users == 1:
                del self._locks[openid]
            else:
                self._locks[openid] = (lock, users - 1)

    async def _sync_user_now(self, openid: str) -> set[str]:
        async with self._sessions() as session:
            desired = desired_parts(await get_subscriber(session, "wechat", openid))
        try:
            return await self._sync_user(openid, desired)
        except WeChatClientException as exc:
            if exc.errcode == INVALID_TAG:  # a tag was deleted in the admin console
                await self.tag_ids(refresh=True)
                return await self._sync_user(openid, desired)
            if exc.errcode in NOT_A_FOLLOWER:
                return set()
            raise

    async def _sync_user(self, openid: str, desired: set[str]) -> set[str]:
        ids = await self.tag_ids()
        by_id = {tag_id: part for part, tag_id in ids.items()}
        carried = await self._api.call(lambda c: c.tag.get_user_tag(openid))
        current = {by_id[t] for t in carried if t in by_id}
        for part in sorted(desired - current):
            await self._tag(ids[part], [openid], untag=False)
        for part in sorted(current - desired):
            await self._tag(ids[part], [openid], untag=True)
        return desired

    # --- everyone ---------------------------------------------------------------------

    async def sync_all(self) -> dict[str, int]:
        """Reconcile every tag with the database; part -> followers carrying it."""
        ids = await self.tag_ids(refresh=True)
        desired = await self._desired_members()
        members: dict[str, int] = {}
        for part, tag_id in ids.items():
            wanted = desired.get(part, set())
            current = await self._tag_members(tag_id)
            failed = await self._apply(tag_id, wanted - current, untag=False)
            await self._apply(tag_id, current - wanted, untag=True)
            members[part] = len(wanted - failed)
        return members

    async def audience(self, parts: Iterable[str]) -> set[str]:
        """Followers (from the database) who receive any of `parts`."""
        desired = await self._desired_members()
        return set().union(*(desired.get(part, set()) for part in parts))

    async def _desired_members(self) -> dict[str, set[str]]:
        desired: dict[str, set[str]] = {}
        async for batch in iter_active(self._sessions, "wechat", include_paused=True):
            for subscriber in batch:
                for part in desired_parts(subscriber):
                    desired.setdefault(part, set()).add(subscriber.chat_id)
        return desired

    async def _tag_members(self, tag_id: int) -> set[str]:
        members: set[str] = set()
        after: str | None = None
        while True:
            page: dict[str, Any] = await self._api.call(
                lambda c, start=after: c.tag.get_tag_users(tag_id, start)
            )
            members.update(page.get("data", {}).get("openid", []))
            after = page.get("next_openid") or None
            if not after or not page.get("count"):
                return members

    async def _apply(self, tag_id: int, openids: set[str], *, untag: bool) -> set[str]:
        """(Un)tag in batches of 50; a failed batch is retried one by one. The failures."""
        failed: set[str] = set()
        for batch in _batches(openids):
            try:
                await self._tag(tag_id, batch, untag=untag)
            except WeChatClientException:
                for openid in batch:
                    try:
                        await self._tag(tag_id, [openid], untag=untag)
                    except WeChatClientException as exc:
                        log.warning("could not (un)tag %s with %s: %s", openid, tag_id, exc)
                        failed.add(openid)
        return failed

    async def _tag(self, tag_id: int, openids: list[str], *, untag: bool) -> None:
        if untag:
            await self._api.call(lambda c: c.tag.untag_user(tag_id, openids))
        else:
            await self._api.call(lambda c: c.tag.tag_user(tag_id, openids))


async def sync_tags(
    api: Api, sessions: async_sessionmaker[AsyncSession], taxonomy: Taxonomy
) -> dict[str, int]:
    """Full reconciliation of every briefbot tag with the subscriptions (see `TagSync`)."""
    return await TagSync(api, sessions, taxonomy).sync_all()
