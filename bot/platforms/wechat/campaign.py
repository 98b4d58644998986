"""An issue's WeChat push: one mass send per tag ("part") that has followers, driven by
the delivery engine as a campaign-shaped sender (bot/delivery/campaigns.py).

Customer-service messages only reach followers who wrote within 48 hours, so issues go
out by mass send with the `tag_id` filter. The engine claims the issue's pending wechat
deliveries as one unit (a newer issue supersedes an older one still pending) and asks:

1. `plan`: every tag (of every series) reconciled with the subscriptions
   (`TagSync.sync_all`), then the parts with followers and a rendering stored at
   publication (bot/publish/rendering.py: what is sent is what publication rendered; an
   issue's publication stores its own series' parts only), largest audience first;
   nothing when today's quota is used up and no send awaits a resend (no API call then);
2. `send_part`: the send is claimed in the ledger (storage/wechat.py) with one unit of the
   day's quota before the call and marked sent after it, and carries a `clientmsgid`
   derived from (issue, part), so a send interrupted by a crash is repeated with the same
   id and WeChat answers 45065 instead of sending twice;
3. `settle`: once every part is sent (or refused), followers of a refused part missed it
   (their deliveries fail), the rest are sent. Parts left when the quota runs out go on
   another day: the engine hands the rows back and rests the platform meanwhile.

Corrections (issue 14): when an entry's title or link changed after publication,
bot/publish/corrections.py writes the followers' corrections with one message per part
that shows the entry, at most once per issue per day. The engine claims them like the
issue and `plan(issue_id, corrections)` makes one mass send per tag that got the issue
(its push part is sent in the ledger), under the same daily quota, each with its own
ledger entry and `clientmsgid` derived from (issue, part, day): `correction:<day>:<part>`.

Crash-safety and failover are the engine's (one claim of the issue's rows, requeued when
its instance dies; bot/delivery/engine.py); the ledger makes every part go at most once.
"""

from __future__ import annotations

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
from bot.delivery.campaigns import Campaign, PartOutcome, Settlement
from bot.platforms.wechat.tags import TagSync
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient, send_mass_text_by_tag
from bot.publish.rendering import MASS_PART_PREFIX
from bot.redaction import redact
from storage.deliveries.writes import renderings_by_prefix
from storage.wechat import (
    campaign_parts,
    claim_part,
    exhaust_quota,
    finish_part,
    mass_sends_on,
)

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")  # WeChat's quota day
DUPLICATE_CLIENT_MSG_ID = 45065
NO_QUOTA = 45028
RETRY_LATER = frozenset({None, -1, 45009})
QUOTA_RECHECK = 300.0  # seconds between looks at a used-up quota (no API call)
INTERRUPTED_WAIT = 60.0  # seconds before a campaign interrupted by an error resumes


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
    text: str  # the part's rendering stored at publication (or its correction)
    ledger: str = ""  # its name in the ledger and clientmsgid; "" : the part's own

    @property
    def key(self) -> str:
        return self.ledger or self.part


def correction_key(part: str, day: str) -> str:
    """A correction's ledger name: one per (part, day), so at most one a day per part."""
    return f"correction:{day}:{part}"


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
    """The Official Account as the engine's "campaign" sender."""

    platform = "wechat"
    shape = "campaign"

    def __init__(
        self,
        api: WechatApi[OfficialAccountClient],
        tags: TagSync,
        sessions: async_sessionmaker[AsyncSession],
        settings: WechatSettings,
        *,
        today: Callable[[], str] = china_day,
    ) -> None:
        self._api = api
        self._tags = tags
        self._sessions = sessions
        self._settings = settings
        self._today = today
        self._order = {part: i for i, part in enumerate(tags.parts)}

    def chat_kind(self, chat_id: str) -> str:
        return "user"

    async def plan(
        self, issue_id: int, corrections: dict[str, dict[str, Any]] | None = None
    ) -> Campaign:
        """Parts with followers and a stored rendering, largest audience first; with
        `corrections` (part -> its correction message), the parts that got the issue."""
        report = CampaignReport(issue_id)
        if await self._waiting_for_quota(issue_id):
            report.quota_exhausted = True
            return Campaign(issue_id, [], report, wait=QUOTA_RECHECK)
        async with self._sessions() as session:
            if corrections is None:
                stored = await renderings_by_prefix(session, issue_id, "wechat", MASS_PART_PREFIX)
                texts = {str(m[0]["part"]): (str(m[0]["text"]), "") for m in stored if m}
            else:
                records = await campaign_parts(session, issue_id)
                texts = {
                    part: (str(op["text"]), correction_key(part, str(op.get("day", ""))))
                    for part, op in corrections.items()
                    if part in records and records[part].status == "sent"  # got the issue
                }
        members = await self._tags.sync_all()
        ids = await self._tags.tag_ids()
        plans = [
            PartPlan(part, ids[part], count, *texts[part])
            for part, count in members.items()
            if count and part in texts
        ]
        plans.sort(key=lambda p: (-p.members, self._order.get(p.part, len(self._order))))
        return Campaign(issue_id, plans, report)

    async def send_part(self, campaign: Campaign, plan: PartPlan) -> PartOutcome:
        """Claim and send one part; `go_on` False when the campaign must stop for now
        (the parts after it are deferred)."""
        report: CampaignReport = campaign.report
        outcome = await self._send_part(campaign.issue_id, plan, report)
        if not outcome.go_on:
            later = list(campaign.parts)[list(campaign.parts).index(plan) + 1 :]
            report.deferred += [p.part for p in later]
        return outcome

    async def settle(self, campaign: Campaign) -> Settlement | None:
        """Followers of a refused part missed it; every other delivery was reached."""
        report: CampaignReport = campaign.report
        plans: list[PartPlan] = list(campaign.parts)
        async with self._sessions() as session:
            records = await campaign_parts(session, campaign.issue_id)
        done = ("sent", "failed")
        if not all(p.key in records and records[p.key].status in done for p in plans):
            return None
        refused = [p for p in plans if records[p.key].status == "failed"]
        missed = await self._tags.audience([p.part for p in refused]) if refused else set()
        why = "; ".join(f"{p.part}: {records[p.key].detail}" for p in refused)
        report.finished = True
        log.info("wechat campaign of issue %s: %s", campaign.issue_id, report)
        return Settlement(
            missed=missed,
            missed_note=f"mass send refused ({why})",
            note=f"tag campaign: {len(plans)} mass send(s)",
        )

    async def _waiting_for_quota(self, issue_id: int) -> bool:
        """Today's quota is used up and no send of this issue awaits a resend: no API calls."""
        day = self._today()
        async with self._sessions() as session:
            used = await mass_sends_on(session, self._settings.app_id, day)
            records = await campaign_parts(session, issue_id)
        resend = any(r.status == "sending" and r.day == day for r in records.values())
        return used >= self._settings.mass_send_daily_quota and not resend

    async def _send_part(
        self, issue_id: int, plan: PartPlan, report: CampaignReport
    ) -> PartOutcome:
        day = self._today()
        cid = client_msg_id(issue_id, plan.key)
        async with self._sessions.begin() as session:
            claim = await claim_part(
                session,
                self._settings.app_id,
                issue_id,
                plan.key,
                tag_id=plan.tag_id,
                client_msg_id=cid,
                day=day,
                quota=self._settings.mass_send_daily_quota,
            )
        if claim == "done":
            report.already.append(plan.part)
            return PartOutcome(go_on=True)
        if claim == "no_quota":
            report.deferred.append(plan.part)
            return PartOutcome(go_on=False, wait=QUOTA_RECHECK)
        try:
            answer = await self._api.call(
                lambda c: send_mass_text_by_tag(c, plan.tag_id, plan.text, client_msg_id=cid)
            )
        except WeChatClientException as exc:
            return await self._refused(issue_id, plan, day, exc, report)
        except Exception as exc:  # timeout, connection: maybe sent; the clientmsgid tells later
            report.interrupted = redact(f"{plan.part}: {type(exc).__name__}: {exc}")
            return PartOutcome(go_on=False, wait=INTERRUPTED_WAIT)
        await self._finish(issue_id, plan.key, "sent", _msg_id(answer), "")
        report.sent.append(plan.part)
        return PartOutcome(go_on=True, sent=True)

    async def _refused(
        self,
        issue_id: int,
        plan: PartPlan,
        day: str,
        exc: WeChatClientException,
        report: CampaignReport,
    ) -> PartOutcome:
        if exc.errcode == DUPLICATE_CLIENT_MSG_ID:  # an earlier, interrupted call went through
            await self._finish(issue_id, plan.key, "sent", _error_msg_id(exc), "45065")
            report.already.append(plan.part)
            return PartOutcome(go_on=True)
        if exc.errcode == NO_QUOTA:
            async with self._sessions.begin() as session:
                await exhaust_quota(
                    session, self._settings.app_id, day, self._settings.mass_send_daily_quota
                )
            await self._finish(issue_id, plan.key, "deferred", None, str(exc))
            report.deferred.append(plan.part)
            return PartOutcome(go_on=False, wait=QUOTA_RECHECK)
        if exc.errcode in RETRY_LATER:
            report.interrupted = redact(f"{plan.part}: {exc}")
            return PartOutcome(go_on=False, wait=INTERRUPTED_WAIT)
        log.error("mass send of %s (issue %s) refused: %s", plan.part, issue_id, exc)
        await self._finish(issue_id, plan.key, "failed", None, str(exc))
        report.failed.append(plan.part)
        return PartOutcome(go_on=True)

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
