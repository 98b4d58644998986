"""Campaign-shaped platforms: an issue's deliveries reached by a few audience-wide sends.

The Official Account cannot message followers one by one (customer-service messages need
a recent interaction), so an issue goes out as mass sends, one per tag ("part"). The
engine claims the issue's pending rows on the platform as ONE unit
(storage.deliveries.campaigns), keeps the claim alive with its heartbeat, and drives the
sender's parts one at a time, each in a sending slot after the platform's flood pause:

1. `plan(issue_id)`: the parts to send (audiences reconciled); `wait` set when nothing can
   go now (the day's quota is used up);
2. `send_part(campaign, part)`: the sender reserves the send in its ledger (the quota it
   states) before the call and records it after, with a client message id derived from
   (issue, part), so a call repeated after a crash is refused by the platform as a
   duplicate (WeChat's 45065) instead of sent twice; `go_on` False stops the campaign
   for `wait` seconds (quota, a transient error);
3. `settle(campaign)`: once every part is done, who missed a refused part; the engine
   closes the rows: failed for those, sent for the rest.

Corrections of an issue on such a platform (bot/publish/corrections.py writes them, one
operation per audience part, each naming its `part`) are claimed the same way from the
corrections outbox and planned from their operations (`plan(issue_id, corrections)`):
one send per part that got the issue, under the same quota and ledger.

Stopped, paused or told to wait, the rows go back to pending and the platform rests
(engine.py). Killed, the rows are requeued like any claim, and the next claimant resumes
the campaign: parts already recorded are skipped, the part in flight is repeated under
its client message id. So a crash repeats no mass send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.courier import Courier, Lane
from bot.delivery.jobs import Job
from bot.redaction import redact
from storage.deliveries import campaigns as store
from storage.deliveries.campaigns import ClaimedCampaign

log = logging.getLogger(__name__)
RETRY_LATER = 60.0  # seconds a campaign rests after an unexpected failure


@dataclass(slots=True)
class Campaign:
    """One run of an issue's campaign, as the sender planned it."""

    issue_id: int
    parts: Sequence[Any]
    report: Any  # the sender's account of the run (DrainReport.campaigns)
    wait: float | None = None  # nothing can go now: try again in this many seconds
    state: dict[str, Any] = field(default_factory=dict)  # the sender's own


@dataclass(frozen=True, slots=True)
class PartOutcome:
    go_on: bool  # False: stop the campaign for now
    sent: bool = False  # a send the platform accepted (counted as a call)
    wait: float = RETRY_LATER  # when not go_on: rest this many seconds


@dataclass(frozen=True, slots=True)
class Settlement:
    missed: Collection[str] = ()  # chats whose part was refused: their deliveries fail
    missed_note: str = ""
    note: str = ""  # on the other deliveries, sent


class CampaignSender(Protocol):
    platform: str
    shape: str  # "campaign"

    def chat_kind(self, chat_id: str) -> str: ...

    async def plan(
        self, issue_id: int, corrections: dict[str, dict[str, Any]] | None = None
    ) -> Campaign:
        """The parts to send of the issue, or (`corrections`: part -> the correction
        operation for it) of its correction."""
        ...

    async def send_part(self, campaign: Campaign, part: Any) -> PartOutcome: ...

    async def settle(self, campaign: Campaign) -> Settlement | None:
        """Who missed a refused part, once every part is done; None: some are not."""
        ...


def campaign_job(claim: ClaimedCampaign) -> Job:
    """The claim as the engine holds it (one unit, keyed by the issue)."""
    return Job(
        id=claim.issue_id,
        issue_id=claim.issue_id,
        subscriber_id=0,
        platform=claim.platform,
        chat_id="",
        attempts=0,
        messages=(),
        sent=0,
        kind="campaign" if claim.kind == "delivery" else "campaign-correction",
        campaign=claim,
    )


async def deliver_campaign(courier: Courier, job: Job) -> None:
    """Run what is left of the claimed campaign; raises only a database error."""
    claim = job.campaign
    assert claim is not None
    lane = courier.lanes[claim.platform]
    sender: Any = lane.sender
    try:
        if claim.kind == "correction":
            operations = await _operations(courier, claim)
            campaign: Campaign = await sender.plan(claim.issue_id, operations)
        else:
            campaign = await sender.plan(claim.issue_id)
    except Exception as exc:  # the platform failed (tags, tokens): try again later
        reason = redact(f"{type(exc).__name__}: {exc}")
        error = f"{claim.platform} campaign of issue {claim.issue_id}: {reason}"
        log.warning("%s; retrying in %.0fs", error, RETRY_LATER)
        courier.report.errors.append(error)
        await _rest(courier, job, RETRY_LATER, reason)
        return
    courier.report.campaigns.append(campaign.report)
    if campaign.wait is not None:
        await _rest(courier, job, campaign.wait)
        return
    for part in campaign.parts:
        if courier.stopping or courier.is_paused(job):
            await courier.release(job)
            return
        outcome = await _send(courier, lane, job, campaign, part)
        if not outcome.go_on:
            await _rest(courier, job, outcome.wait)
            return
    settlement = await sender.settle(campaign)
    if settlement is None:
        await _rest(courier, job, RETRY_LATER)
        return
    await _settle(courier, job, settlement)


async def _operations(courier: Courier, claim: ClaimedCampaign) -> dict[str, dict[str, Any]]:
    claimant = courier.claimant

    async def op(session: AsyncSession) -> dict[str, dict[str, Any]]:
        return await store.campaign_operations(session, claim, claimant)

    return await courier.writer.call(op)


async def _send(
    courier: Courier, lane: Lane, job: Job, campaign: Campaign, part: Any
) -> PartOutcome:
    sender: Any = lane.sender
    async with lane.slots:
        await lane.gate.ready()
        job.busy = True
        try:
            outcome: PartOutcome = await sender.send_part(campaign, part)
        except Exception as exc:  # unclassified: the ledger knows what went out
            log.warning("%s campaign part %r raised %r", job.platform, part, exc)
            outcome = PartOutcome(go_on=False)
        finally:
            job.busy = False
    if outcome.sent:
        courier.report.calls += 1
    return outcome


async def _rest(courier: Courier, job: Job, seconds: float, note: str | None = None) -> None:
    """Hand the rows back and leave the platform alone for `seconds`."""
    loop = asyncio.get_running_loop()
    courier.resting[job.platform] = loop.time() + seconds
    await courier.release(job, note=note)


async def _settle(courier: Courier, job: Job, settlement: Settlement) -> None:
    claim = job.campaign
    assert claim is not None
    now, claimant = courier.wall(), courier.claimant

    async def op(session: AsyncSession) -> tuple[int, int]:
        failed = 0
        if settlement.missed:
            failed = await store.settle_campaign(
                session,
                claim,
                claimant,
                "failed",
                settlement.missed_note,
                now,
                chat_ids=settlement.missed,
            )
        sent = await store.settle_campaign(session, claim, claimant, "sent", settlement.note, now)
        return sent, failed

    sent, failed = await courier.writer.call(op)
    courier.report.deliveries_sent += sent
    courier.report.deliveries_failed += failed
