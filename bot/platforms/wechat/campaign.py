"""An issue's WeChat push: one mass send per tag ("part") that has followers.

Customer-service messages only reach followers who wrote within 48 hours, so issues go
out by mass send with the `tag_id` filter. Per issue (a "tag campaign"):

1. reconcile every tag with the subscriptions (`TagSync.sync_all`);
2. render each part with followers as one message (mass_render.py);
3. send the parts, largest audience first, while the day's quota lasts: each send is
   claimed in the ledger (with its quota) before the call and marked sent after it, and
   carries a `clientmsgid` derived from (issue, part), so a send interrupted by a crash is
   repeated with the same id and WeChat answers 45065 instead of sending twice;
4. once every part is sent (or refused), the issue's pending wechat deliveries are
   settled: failed for followers of a refused part (they missed it), sent for the rest.
   Parts left when the quota runs out go on the next day.

`WechatPusher` runs campaigns for issues with pending wechat deliveries; an older issue
still pending when a newer one arrives is dropped (its parts would be stale news).

Several instances: a pusher with a `claimant` (its instance id) runs an issue's campaign
only while it holds the issue's lease (storage.wechat.take_campaign), so one instance at
a time sends its parts. The lease passes on once its holder's heartbeat is `stale_after`
old; pushers check for such an orphaned campaign every `poll` seconds (one query), so a
dead instance's campaign resumes (same clientmsgids: 45065, not a second send) within
`stale_after` + `poll`, not at the next `interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.exceptions import WeChatClientException

from bot.config import WechatSettings
from bot.platforms.wechat.mass_render import render_part
from bot.platforms.wechat.tags import TagSync, part_names
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient, send_mass_text_by_tag
from bot.redaction import redact
from briefings.taxonomy import Taxonomy
from formatters import WeChatRenderer
from storage.instances import is_alive
from storage.issues import load_issue
from storage.wechat import (
    PartRecord,
    campaign_holder,
    campaign_parts,
    claim_part,
    exhaust_quota,
    finish_part,
    mass_sends_on,
    pending_issue_ids,
    release_campaign,
    settle_pending,
    take_campaign,
)

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")  # WeChat's quota day
DUPLICATE_CLIENT_MSG_ID = 45065
NO_QUOTA = 45028
RETRY_LATER = frozenset({None, -1, 45009})
SUPERSEDED = "superseded by a newer issue before its WeChat campaign finished"


def china_day(timestamp: float | None = None) -> str:
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.astimezone(CHINA).date().isoformat()


def client_msg_id(issue_id: int, part: str) -> str:
    """Stable per (issue, part) and within WeChat's 64 bytes."""
    digest = hashlib.sha1(part.encode()).hexdigest()[:16]
    return f"briefbot-{issue_id}-{digest}"


@dataclass(frozen=True, slots=True)
class PartPlan:
    part: str
    tag_id: int
    members: int
    text: str


@dataclass(slots=True)
class CampaignReport:
    issue_id: int
    sent: list[str] = field(default_factory=list)  # by this run
    already: list[str] = field(default_factory=list)  # sent by an earlier run
    failed: list[str] = field(default_factory=list)  # refused by WeChat, not retried
    deferred: list[str] = field(default_factory=list)  # no quota left today
    interrupted: str | None = None  # transient error: retried on the next run
    quota_exhausted: bool = False  # nothing tried: today's quota is gone
    finished: bool = False  # every part done, deliveries settled


class WechatCampaign:
    def __init__(
        self,
        api: WechatApi[OfficialAccountClient],
        tags: TagSync,
        sessions: async_sessionmaker[AsyncSession],
        settings: WechatSettings,
        taxonomy: Taxonomy,
        *,
        renderer: WeChatRenderer,  # bot.rendering.mass_send_renderer: wechat.max_bytes applies
        today: Callable[[], str] = china_day,
    ) -> None:
        self._api = api
        self._tags = tags
        self._sessions = sessions
        self._settings = settings
        self._taxonomy = taxonomy
        self._today = today
        self._renderer = renderer
        self._order = {part: i for i, part in enumerate(part_names(taxonomy))}

    async def plan(self, issue_id: int) -> list[PartPlan]:
        """Parts with followers and content, largest audience first."""
        async with self._sessions() as session:
            issue = await load_issue(session, issue_id)
        if issue is None:
            raise LookupError(f"no issue with id {issue_id}")
        members = await self._tags.sync_all()
        ids = await self._tags.tag_ids()
        plans = []
        for part, count in members.items():
            text = render_part(self._renderer, issue, part, self._taxonomy) if count else None
            if text is not None:
                plans.append(PartPlan(part, ids[part], count, text))
        plans.sort(key=lambda p: (-p.members, self._order.get(p.part, len(self._order))))
        return plans

    async def run(self, issue_id: int) -> CampaignReport:
        report = CampaignReport(issue_id)
        if await self._waiting_for_quota(issue_id):
            report.quota_exhausted = True
            return report
        plans = await self.plan(issue_id)
        for index, plan in enumerate(plans):
            if not await self._send_part(issue_id, plan, report):
                report.deferred += [p.part for p in plans[index + 1 :]]
                break
        async with self._sessions() as session:
            records = await campaign_parts(session, issue_id)
        done = all(
            p.part in records and records[p.part].status in ("sent", "failed") for p in plans
        )
        if done:
            await self._settle(issue_id, plans, records)
            report.finished = True
        log.info("wechat campaign of issue %s: %s", issue_id, report)
        return report

    async def _settle(
        self, issue_id: int, plans: list[PartPlan], records: dict[str, PartRecord]
    ) -> None:
        """Followers of a refused part missed it: failed; every other pending one: sent."""
        refused = [p.part for p in plans if records[p.part].status == "failed"]
        missed = await self._tags.audience(refused) if refused else set()
        async with self._sessions.begin() as session:
            if missed:
                why = "; ".join(f"{part}: {records[part].detail}" for part in refused)
                note = f"mass send refused ({why})"
                await settle_pending(session, issue_id, "wechat", "failed", note, chat_ids=missed)
            note = f"tag campaign: {len(plans)} mass send(s)"
            await settle_pending(session, issue_id, "wechat", "sent", note)

    async def _waiting_for_quota(self, issue_id: int) -> bool:
        """Today's quota is used up and no send of this issue awaits a resend: no API calls."""
        day = self._today()
        async with self._sessions() as session:
            used = await mass_sends_on(session, self._settings.app_id, day)
            records = await campaign_parts(session, issue_id)
        resend = any(r.status == "sending" and r.day == day for r in records.values())
        return used >= self._settings.mass_send_daily_quota and not resend

    async def _send_part(self, issue_id: int, plan: PartPlan, report: CampaignReport) -> bool:
        """Claim and send one part; False when the campaign must stop for now."""
        day = self._today()
        cid = client_msg_id(issue_id, plan.part)
        async with self._sessions.begin() as session:
            claim = await claim_part(
                session,
                self._settings.app_id,
                issue_id,
                plan.part,
                tag_id=plan.tag_id,
                client_msg_id=cid,
                day=day,
                quota=self._settings.mass_send_daily_quota,
            )
        if claim == "done":
            report.already.append(plan.part)
            return True
        if claim == "no_quota":
            report.deferred.append(plan.part)
            return False
        try:
            answer = await self._api.call(
                lambda c: send_mass_text_by_tag(c, plan.tag_id, plan.text, client_msg_id=cid)
            )
        except WeChatClientException as exc:
            return await self._refused(issue_id, plan, day, exc, report)
        except Exception as exc:  # timeout, connection: maybe sent; the clientmsgid tells later
            report.interrupted = redact(f"{plan.part}: {type(exc).__name__}: {exc}")
            return False
        await self._finish(issue_id, plan.part, "sent", _msg_id(answer), "")
        report.sent.append(plan.part)
        return True

    async def _refused(
        self,
        issue_id: int,
        plan: PartPlan,
        day: str,
        exc: WeChatClientException,
        report: CampaignReport,
    ) -> bool:
        if exc.errcode == DUPLICATE_CLIENT_MSG_ID:  # an earlier, interrupted call went through
            await self._finish(issue_id, plan.part, "sent", _error_msg_id(exc), "45065")
            report.already.append(plan.part)
            return True
        if exc.errcode == NO_QUOTA:
            async with self._sessions.begin() as session:
                await exhaust_quota(
                    session, self._settings.app_id, day, self._settings.mass_send_daily_quota
                )
            await self._finish(issue_id, plan.part, "deferred", None, str(exc))
            report.deferred.append(plan.part)
            return False
        if exc.errcode in RETRY_LATER:
            report.interrupted = redact(f"{plan.part}: {exc}")
            return False
        log.error("mass send of %s (issue %s) refused: %s", plan.part, issue_id, exc)
        await self._finish(issue_id, plan.part, "failed", None, str(exc))
        report.failed.append(plan.part)
        return True

    async def _finish(
        self, issue_id: int, part: str, status: Any, msg_id: int | None, detail: str
    ) -> None:
        async with self._sessions.begin() as session:
            detail = redact(detail)  # the stored reason is shown by status and alerts
            await finish_part(session, issue_id, part, status, msg_id=msg_id, detail=detail)


def _msg_id(answer: Any) -> int | None:
    value = answer.get("msg_id") if isinstance(answer, dict) else None
    return int(value) if value is not None else None


def _error_msg_id(exc: WeChatClientException) -> int | None:
    with contextlib.suppress(Exception):
        return _msg_id(exc.response.json())
    return None


class WechatPusher:
    """Runs the campaign of the newest issue with pending wechat deliveries."""

    def __init__(
        self,
        campaign: WechatCampaign,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float = 300.0,
        claimant: str | None = None,
        stale_after: float = 10.0,  # the cluster's stale_seconds
        poll: float = 2.0,
    ) -> None:
        self._campaign = campaign
        self._sessions = sessions
        self._interval = interval
        self.claimant = claimant
        self._stale_after = stale_after
        self._poll = poll

    async def run_once(self) -> CampaignReport | None:
        """The newest pending issue's campaign; None when there is none, or when another
        live instance is running it."""
        async with self._sessions.begin() as session:
            pending = await pending_issue_ids(session, "wechat")
            for old in pending[:-1]:
                await settle_pending(session, old, "wechat", "dropped", SUPERSEDED)
        if not pending:
            return None
        issue_id, holder = pending[-1], self.claimant
        if holder is None:
            return await self._campaign.run(issue_id)
        async with self._sessions.begin() as session:
            if not await take_campaign(session, issue_id, holder, self._stale_after):
                return None
        try:
            report = await self._campaign.run(issue_id)
        except Exception:
            await self._release(issue_id, holder)
            raise
        # Not in a `finally`: a cancelled run keeps the lease, which then lapses with
        # this instance's heartbeat (a clean stop deregisters: at once).
        await self._release(issue_id, holder)
        return report

    async def _release(self, issue_id: int, holder: str) -> None:
        async with self._sessions.begin() as session:
            await release_campaign(session, issue_id, holder)

    async def orphaned(self) -> bool:
        """Whether the newest pending issue's campaign was left by a dead instance."""
        async with self._sessions() as session:
            pending = await pending_issue_ids(session, "wechat")
            if not pending:
                return False
            holder = await campaign_holder(session, pending[-1])
            if holder is None or holder == self.claimant:
                return False
            return not await is_alive(session, holder, self._stale_after)

    async def run_forever(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("wechat push failed; retrying in %.0fs", self._interval)
            due = loop.time() + self._interval
            while not stop.is_set() and (left := due - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(left, self._poll))
                if self.claimant is not None and not stop.is_set():
                    try:
                        if await self.orphaned():
                            break
                    except Exception:
                        log.exception("wechat push: cannot check for an orphaned campaign")
