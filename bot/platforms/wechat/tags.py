"""WeChat user tags mirroring subscriptions: the audience of each mass-send part.

Every section and topic, and "everything", is a part with a tag named `bb:<part>`.
A follower carries the tags of the parts it receives: `all` alone when subscribed to
everything (so it gets one message per issue, not one per section), else one tag per
subscribed section and topic; none while paused or inactive. The adapter syncs a
follower after each command that may change this; `sync_all` reconciles every tag.

With several series each has its own parts (`gadgets/all`, ...: bot/publish/mass.py) and
a follower carries the parts of every series it follows. WeChat allows an account 100
tags and a follower 20: every series' `all` and topics get a tag (a configuration needing
more is refused when the sync is built: `TagBudgetError`), sections while tags are left
(`within_budget`), and a follower whose parts exceed
20 gets, for the series with the most parts first, that series' `all` instead of its
sections and topics: more than it chose of that series rather than nothing. A part
without a tag (a section first seen after the start) counts as its series' `all`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.exceptions import WeChatClientException

from bot.config import ConfigError
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient
from bot.publish.mass import ALL_PART, desired_parts, part_names, qualified, split_part
from briefings.taxonomy import Taxonomy
from storage.subscribers import get_subscriber, iter_active, series_key

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
__all__ = [
    "ALL_PART",
    "MassSeries",
    "TagBudgetError",
    "TagSync",
    "desired_parts",
    "part_names",
    "tag_name",
]

TAG_PREFIX = "bb:"
TAG_NAME_MAX_BYTES = 30
TAG_BATCH = 50  # openids per batch(un)tagging call
INVALID_TAG = 45159
DUPLICATE_TAG_NAME = 45157
TOO_MANY_TAGS = 45056
NOT_A_FOLLOWER = frozenset({40003, 43004})
ACCOUNT_TAGS = 100  # WeChat's limit per Official Account
TAGS_PER_FOLLOWER = 20  # WeChat's limit per follower

Api = WechatApi[OfficialAccountClient]
# A series as mass sends see it: its subscription key ('' : the primary) and taxonomy.
MassSeries = tuple[str, Taxonomy]


class TagBudgetError(ConfigError):
    """The configured series need more tags than an Official Account may have."""


def mass_series(runtime: Runtime) -> list[MassSeries]:
    """Every configured series, the primary one first."""
    return [
        (series_key(view.series.slug, runtime.primary_slug), view.taxonomy)
        for view in runtime.each_series()
    ]


def within_budget(series: Sequence[MassSeries]) -> list[str]:
    """The parts that get a tag, in push priority order: every series' `all` and topics
    (TagBudgetError when those alone are too many), then sections while the account has
    tags left. A section left without one reaches its followers through their series'
    `all` (`TagSync._known`): a free-heading series gains sections with its issues, and
    that must not stop the bot."""
    parts = [part for key, taxonomy in series for part in part_names(taxonomy, key)]
    is_section = [split_part(part)[1].startswith("section:") for part in parts]
    fixed = is_section.count(False)
    if fixed > ACCOUNT_TAGS:
        raise TagBudgetError(
            f"wechat: the series need {fixed} tags (one per series and topic) and an "
            f"Official Account has at most {ACCOUNT_TAGS}; configure fewer topics"
        )
    left = ACCOUNT_TAGS - fixed
    tagged = []
    for part, section in zip(parts, is_section, strict=True):
        if section:
            if not left:
                continue
            left -= 1
        tagged.append(part)
    if len(tagged) < len(parts):
        log.warning(
            "wechat: %d section(s) have no tag (an account has %d): their followers get "
            "their series' whole issue",
            len(parts) - len(tagged),
            ACCOUNT_TAGS,
        )
    return tagged


def fit_follower(parts: set[str], limit: int = TAGS_PER_FOLLOWER) -> set[str]:
    """`parts` within a follower's tag limit: the series with the most parts first takes
    its `all` part instead (more of that series than chosen, never less); beyond `limit`
    series, the last ones in name order are left out."""
    by_series: dict[str, set[str]] = {}
    for part in parts:
        by_series.setdefault(split_part(part)[0], set()).add(part)
    total = len(parts)
    for series in sorted(by_series, key=lambda k: (-len(by_series[k]), k)):
        if total <= limit or len(by_series[series]) == 1:
            break
        total -= len(by_series[series]) - 1
        by_series[series] = {qualified(ALL_PART, series)}
    fitted = [p for series in sorted(by_series) for p in sorted(by_series[series])]
    if len(fitted) > limit:
        log.warning("a follower follows more than %d series: the last ones left out", limit)
    return set(fitted[:limit])


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
        self,
        api: Api,
        sessions: async_sessionmaker[AsyncSession],
        series: Sequence[MassSeries],
    ) -> None:
        self._api = api
        self._sessions = sessions
        self._series = [key for key, _ in series]
        self.parts = within_budget(series)
        self._ids: dict[str, int] | None = None
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, its users

    @classmethod
    def for_runtime(cls, api: Api, runtime: Runtime) -> TagSync:
        """The tags of every series the runtime's config carries."""
        return cls(api, runtime.sessions, mass_series(runtime))

    def _known(self, parts: set[str]) -> set[str]:
        """`parts`, where a series has one without a tag (a section a free-heading series'
        issues added after the tags were built, or one the account had no tag left for),
        that series' `all` instead of its parts: more of that series than chosen, and
        never a section twice (in `all` and in its own part)."""
        known = set(self._ids) if self._ids is not None else set(self.parts)
        lacking = {split_part(p)[0] for p in parts if p not in known}
        return {qualified(ALL_PART, s) for s in lacking} | {
            p for p in parts if split_part(p)[0] not in lacking
        }

    # --- tags themselves ----------------------------------------------------------------

    async def tag_ids(self, *, refresh: bool = False) -> dict[str, int]:
        """part -> tag id, creating missing tags."""
        if self._ids is not None and not refresh:
            return self._ids
        existing = await self._existing()
        wanted = {tag_name(part): part for part in self.parts}
        await self._delete_stale(existing, wanted)
        ids: dict[str, int] = {}
        for name, part in wanted.items():
            if name not in existing:
                created = await self._create(name)
                if created is None:
                    continue  # no tag left: its followers get their series' `all`
                existing[name] = created
            ids[part] = existing[name]
        self._ids = ids
        return ids

    async def _delete_stale(self, existing: dict[str, int], wanted: dict[str, str]) -> None:
        """Delete our tags no part has any more (a section gone from a series, a series
        removed): they hold the account's 100 tags and the followers' 20."""
        for name in sorted(set(existing) - set(wanted)):
            if not name.startswith(TAG_PREFIX):
                continue  # the account's own tags are not ours
            tag_id = existing.pop(name)
            try:
                await self._api.call(lambda c, t=tag_id: c.tag.delete(t))
            except WeChatClientException as exc:
                log.warning("could not delete the stale WeChat tag %s: %s", name, exc)
            else:
                log.info("deleted the stale WeChat tag %s (%s)", name, tag_id)

    async def _existing(self) -> dict[str, int]:
        tags = await self._api.call(lambda c: c.tag.get())
        return {str(t["name"]): int(t["id"]) for t in tags}

    async def _create(self, name: str) -> int | None:
        """The new tag's id; None when the account has no tag left (45056)."""
        try:
            tag = await self._api.call(lambda c: c.tag.create(name))
        except WeChatClientException as exc:
            if exc.errcode == TOO_MANY_TAGS:
                log.warning("no WeChat tag left for %s: its followers get the whole series", name)
                return None
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
        desired: set[str] = set()
        async with self._sessions() as session:
            for series in self._series:
                found = await get_subscriber(session, "wechat", openid, series=series)
                desired |= desired_parts(found, series)
        await self.tag_ids()  # which parts have a tag
        desired = fit_follower(self._known(desired))
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
        # Untag first: a follower at its 20 tags could not take a new one before.
        for part in sorted(current - desired):
            await self._tag(ids[part], [openid], untag=True)
        for part in sorted(desired - current):
            await self._tag(ids[part], [openid], untag=False)
        return desired

    # --- everyone ---------------------------------------------------------------------

    async def sync_all(self) -> dict[str, int]:
        """Reconcile every tag with the database; part -> followers carrying it."""
        ids = await self.tag_ids(refresh=True)
        desired = await self._desired_members()
        current = {part: await self._tag_members(tag_id) for part, tag_id in ids.items()}
        # Every untagging before any tagging: a follower at its 20 tags that trades
        # sections for its series' `all` must lose the old ones before taking the new.
        for part, tag_id in ids.items():
            await self._apply(tag_id, current[part] - desired.get(part, set()), untag=True)
        members: dict[str, int] = {}
        for part, tag_id in ids.items():
            wanted = desired.get(part, set())
            failed = await self._apply(tag_id, wanted - current[part], untag=False)
            members[part] = len(wanted - failed)
        return members

    async def audience(self, parts: Iterable[str]) -> set[str]:
        """Followers (from the database) who receive any of `parts`."""
        desired = await self._desired_members()
        return set().union(*(desired.get(part, set()) for part in parts))

    async def _desired_members(self) -> dict[str, set[str]]:
        """part -> followers; memory grows with followers x parts, as the tags do."""
        per_follower: dict[str, set[str]] = {}
        for series in self._series:
            batches = iter_active(self._sessions, "wechat", include_paused=True, series=series)
            async for batch in batches:
                for subscriber in batch:
                    parts = desired_parts(subscriber, series)
                    if parts:
                        per_follower.setdefault(subscriber.chat_id, set()).update(parts)
        desired: dict[str, set[str]] = {}
        for openid, parts in per_follower.items():
            for part in fit_follower(self._known(parts)):
                desired.setdefault(part, set()).add(openid)
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
