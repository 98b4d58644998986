"""WeCom issue pushes: pending wecom deliveries sent in batches, recorded after each send.

Members whose deliveries share a rendering and a checkpoint get each message in ONE
application call (up to 1000 userids); robots get theirs one webhook call at a time. The
sender takes every member's and robot's limit before a call.

Crashes: application messages are at least once, made exactly once by WeCom. After each
accepted call the deliveries' checkpoints are committed (fenced by the claim, like the
delivery engine), so a crash repeats at most the call in flight, and that call carries
WeCom's duplicate check (`enable_duplicate_check`), which accepts the repeat but delivers
it to nobody who already has it.

Robots are at most once. A webhook has no duplicate check, so a repeat would be posted
twice in the group. Before each robot call its message is checkpointed as sent, with an
"in flight" note that the answer clears. A process that dies during the call leaves the
note; the next run logs a warning naming that message and goes on with the next one. The
trade-off: a crash (or a timeout: `MaybeSent`) can cost a robot the one message that was
in flight, which may or may not have arrived; it never shows a group a message twice.
Definite refusals (an errcode, an HTTP error status, no connection) are retried as usual.

Liveness. Under `run` the pusher claims as its instance (`claimant`, bot/cluster): the
claims live exactly as long as the instance's heartbeat, and when that lapses any live
instance hands them back to pending (storage.instances.requeue_orphaned, on the
database's clock) and the next idle poll of any pusher claims them: a dead instance's
WeCom work is resent within `stale_seconds` + a heartbeat + `idle_poll`. Without a
claimant (a caller outside the cluster) claimed rows are kept alive by a row heartbeat
of our own, and `requeue_stale` (ours at start, or the delivery engine's) returns them
once `stale_after` old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.types import (
    ChatGone,
    Permanent,
    RetryAfter,
    SendError,
    StoredMessage,
    Transient,
)
from bot.platforms.wecom.sender import MAX_TOUSER, BatchResult, MaybeSent, WecomSender, is_robot
from bot.redaction import describe
from storage import subscribers
from storage.clock import utcnow
from storage.corrections import claim_corrections, requeue_stale_corrections
from storage.deliveries import (
    Checkpoint,
    ClaimedDelivery,
    Progress,
    claim_for_sending,
    drop_pending_of_subscriber,
    load_renderings,
    record_claimed_progress,
    requeue_stale,
    touch_claimed,
)
from storage.deliveries.writes import record_progress
from storage.wechat import delivery_notes

log = logging.getLogger(__name__)
T = TypeVar("T")
IN_FLIGHT = "in flight: "  # a robot delivery's note while its next message is being posted


@dataclass(slots=True)
class WecomReport:
    calls: int = 0  # accepted API / webhook calls
    messages: int = 0  # message x recipient
    sent: int = 0  # deliveries completed
    dropped: int = 0
    failed: int = 0
    released: int = 0  # back to pending after repeated transient errors
    requeued: int = 0


@dataclass(frozen=True, slots=True)
class WecomPushTuning:
    claim_batch: int = 1000
    max_attempts: int = 5
    backoff_base: float = 1.0
    stale_after: float = 60.0  # only for claims made without a claimant
    idle_poll: float = 2.0  # run_forever: look for work this often while all goes well


class WecomPusher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: WecomSender,
        *,
        tuning: WecomPushTuning | None = None,
        wall: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        claimant: str | None = None,
    ) -> None:
        """`claimant`: the instance id stamped on claims (bot/cluster); its heartbeat is
        then the claims' only liveness (module docstring)."""
        self._sessions = sessions
        self.claimant = claimant
        self._sender = sender
        self._tuning = tuning or WecomPushTuning()
        self._wall = wall
        self._sleep = sleep
        self._held: set[int] = set()

    # --- running ----------------------------------------------------------------------

    async def run_once(self) -> WecomReport:
        """Send every claimable wecom delivery (first, without a claimant, requeue rows
        whose own heartbeat stopped)."""
        report = WecomReport()
        heartbeat = None
        if self.claimant is None:
            older_than = self._wall() - timedelta(seconds=self._tuning.stale_after)
            async with self._sessions.begin() as session:
                report.requeued = await requeue_stale(session, older_than)
                report.requeued += await requeue_stale_corrections(session, older_than)
            heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while claimed := await self._claim():
                await self._send_claimed(claimed, report)
                if report.released:
                    break  # WeCom keeps failing: try again on the next run, not in a loop
            if not report.released:
                await self._send_corrections(report)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
        return report

    async def run_forever(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        """Push until `stop`: every `idle_poll` seconds (how soon a dead instance's
        requeued work is picked up), or `interval` after a failure or a release."""
        while not stop.is_set():
            wait = self._tuning.idle_poll
            try:
                report = await self.run_once()
                if report.calls:
                    log.info("wecom push: %s", report)
                if report.released:
                    wait = interval
            except Exception:
                log.exception("wecom push failed; retrying in %.0fs", interval)
                wait = interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def _claim(self) -> list[ClaimedDelivery]:
        async with self._sessions.begin() as session:
            claimed = await claim_for_sending(
                session,
                self._tuning.claim_batch,
                self._wall(),
                platforms=["wecom"],
                claimed_by=self.claimant,
            )
        self._held.update(c.id for c in claimed)
        return claimed

    async def _send_corrections(self, report: WecomReport) -> None:
        """Corrections of published issues (storage/corrections.py: WeCom cannot edit, so
        one short message each), after the deliveries, through the sender's limits. Each
        message is checkpointed once WeCom took it, under the claim's fencing token, so a
        kill repeats at most the one message in flight, as for member deliveries."""
        async with self._sessions.begin() as session:
            claimed = await claim_corrections(
                session,
                self._tuning.claim_batch,
                self._wall(),
                platforms=["wecom"],
                claimed_by=self.claimant,
            )
        for claim in claimed:
            sent, status, error = claim.messages_sent, "sent", None
            for message in claim.operations[sent:]:
                try:
                    await self._sender.send(claim.chat_id, message)
                except SendError as exc:
                    status, error = _correction_outcome(exc), describe(exc)
                    break
                sent += 1
                report.calls += 1
                report.messages += 1
                if sent < len(claim.operations):
                    await self._checkpoint_correction(claim.id, claim.attempts, sent, "sending")
            await self._checkpoint_correction(claim.id, claim.attempts, sent, status, error)

    async def _checkpoint_correction(
        self, id_: int, attempts: int, sent: int, status: str, error: str | None = None
    ) -> None:
        checkpoint = Checkpoint(Progress(id_, sent, status, error), attempts, "correction")
        async with self._sessions.begin() as session:
            await record_progress(session, [checkpoint], self._wall())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._tuning.stale_after / 4)
            if self._held:
                async with self._sessions.begin() as session:
                    await touch_claimed(session, sorted(self._held), self._wall())

    async def _send_claimed(self, claimed: list[ClaimedDelivery], report: WecomReport) -> None:
        async with self._sessions() as session:
            renderings = await load_renderings(session, {c.rendering_id for c in claimed})
        robots: dict[str, list[ClaimedDelivery]] = {}
        groups: dict[tuple[int, int], list[ClaimedDelivery]] = {}
        for claim in claimed:  # in id order: a chat's older issue first
            if is_robot(claim.chat_id):
                robots.setdefault(claim.chat_id, []).append(claim)
            else:
                groups.setdefault((claim.rendering_id, claim.messages_sent), []).append(claim)

        async def robot(claims: list[ClaimedDelivery]) -> None:
            for claim in claims:
                await self._send_robot(claim, renderings[claim.rendering_id], report)

        async def members() -> None:
            for (rendering_id, _), group in sorted(groups.items()):
                for chunk in _chunks(group, MAX_TOUSER):
                    await self._send_run(chunk, renderings[rendering_id], report)

        await asyncio.gather(members(), *(robot(claims) for claims in robots.values()))

    # --- one run of messages to a set of chats ---------------------------------------

    async def _send_run(
        self,
        claims: Sequence[ClaimedDelivery],
        messages: Sequence[StoredMessage],
        report: WecomReport,
    ) -> None:
        """Messages from the claims' shared checkpoint on, each to every claim still live."""
        live = {c.chat_id: c for c in claims}
        start = claims[0].messages_sent
        if start >= len(messages):  # nothing left to send (e.g. released after the last)
            await self._checkpoint([Progress(c.id, start, "sent") for c in claims], list(claims))
            self._held.difference_update(c.id for c in claims)
            report.sent += len(claims)
            return
        for index in range(start, len(messages)):
            outcome = await self._attempts(lambda i=index: self._send(list(live), messages[i]))
            if isinstance(outcome, SendError):
                await self._give_up(list(live.values()), index, outcome, report)
                return
            report.calls += 1
            report.messages += len(outcome.delivered)
            gone = [live.pop(u) for u in outcome.invalid if u in live]
            if gone:
                await self._drop(gone, index, "not reachable by the WeCom app", report)
            done = index + 1 == len(messages)
            lost = await self._checkpoint(
                [Progress(c.id, index + 1, "sent" if done else "sending") for c in live.values()],
                list(live.values()),
            )
            for chat_id in [k for k, c in live.items() if c.id in lost]:
                log.warning("wecom delivery %s was claimed elsewhere", live.pop(chat_id).id)
            if not live:
                return
        report.sent += len(live)
        self._held.difference_update(c.id for c in live.values())

    async def _send(self, chat_ids: list[str], message: StoredMessage) -> BatchResult:
        return await self._sender.send_batch(chat_ids, message, duplicate_check=True)

    # --- one robot delivery: at most once -------------------------------------------

    async def _send_robot(
        self, claim: ClaimedDelivery, messages: Sequence[StoredMessage], report: WecomReport
    ) -> None:
        """The delivery's messages from its checkpoint on, each posted at most once."""
        await self._warn_if_in_flight(claim, len(messages))
        for index in range(claim.messages_sent, len(messages)):
            note = f"{IN_FLIGHT}message {index + 1}/{len(messages)}"
            if await self._checkpoint([Progress(claim.id, index + 1, "sending", note)], [claim]):
                self._lost(claim)
                return
            text = str(messages[index]["text"])
            outcome = await self._attempts(partial(self._sender.send_robot, claim.chat_id, text))
            if isinstance(outcome, MaybeSent):
                _warn_ambiguous(claim, index, len(messages), str(outcome))
            elif isinstance(outcome, SendError):
                await self._give_up([claim], index, outcome, report)  # not posted: index stays
                return
            else:
                report.calls += 1
                report.messages += 1
            done = index + 1 == len(messages)
            answered = Progress(claim.id, index + 1, "sent" if done else "sending")
            if await self._checkpoint([answered], [claim]):
                self._lost(claim)
                return
        if claim.messages_sent >= len(messages):  # the last one was in flight at a crash
            await self._checkpoint([Progress(claim.id, len(messages), "sent")], [claim])
        self._held.discard(claim.id)
        report.sent += 1

    def _lost(self, claim: ClaimedDelivery) -> None:
        log.warning("wecom delivery %s was claimed elsewhere", claim.id)
        self._held.discard(claim.id)

    async def _warn_if_in_flight(self, claim: ClaimedDelivery, total: int) -> None:
        """An earlier run died posting message `messages_sent`: say it may be lost."""
        async with self._sessions() as session:
            note = (await delivery_notes(session, [claim.id])).get(claim.id, "")
        if note.startswith(IN_FLIGHT) and claim.messages_sent > 0:
            reason = "in flight when an earlier run stopped; not resent"
            _warn_ambiguous(claim, claim.messages_sent - 1, total, reason)

    async def _attempts(self, send: Callable[[], Awaitable[T]]) -> T | SendError:
        """Retry flood waits and transient errors up to max_attempts; the result or error."""
        error: SendError = Transient("not attempted")
        for attempt in range(1, self._tuning.max_attempts + 1):
            try:
                return await send()
            except RetryAfter as exc:
                error = exc
                await self._sleep(exc.seconds)
            except MaybeSent as exc:  # a retry might post it twice
                return exc
            except Transient as exc:
                error = exc
                if attempt < self._tuning.max_attempts:
                    await self._sleep(self._tuning.backoff_base * 2 ** (attempt - 1))
            except SendError as exc:
                return exc
        return error

    # --- recording --------------------------------------------------------------------

    async def _checkpoint(
        self, progress: list[Progress], claims: list[ClaimedDelivery]
    ) -> set[int]:
        attempts = {c.id: c.attempts for c in claims}
        checkpoints = [Checkpoint(p, attempts[p.delivery_id]) for p in progress]
        async with self._sessions.begin() as session:
            return await record_claimed_progress(session, checkpoints, self._wall())

    async def _give_up(
        self, claims: list[ClaimedDelivery], index: int, error: SendError, report: WecomReport
    ) -> None:
        reason = describe(error)  # stored as last_error: no robot key or token in it
        if isinstance(error, ChatGone):
            await self._drop(claims, index, reason, report)
            return
        status = "failed" if isinstance(error, Permanent) else "pending"
        log.warning("wecom push: %d deliveries %s: %s", len(claims), status, reason)
        await self._checkpoint([Progress(c.id, index, status, reason) for c in claims], claims)
        self._held.difference_update(c.id for c in claims)
        if status == "failed":
            report.failed += len(claims)
        else:
            report.released += len(claims)

    async def _drop(
        self, claims: list[ClaimedDelivery], index: int, reason: str, report: WecomReport
    ) -> None:
        now = self._wall()
        async with self._sessions.begin() as session:
            for claim in claims:
                await subscribers.deactivate(session, claim.subscriber_id, reason, now)
                await drop_pending_of_subscriber(session, claim.subscriber_id, reason, now)
            checkpoints = [
                Checkpoint(Progress(c.id, index, "dropped", reason), c.attempts) for c in claims
            ]
            await record_claimed_progress(session, checkpoints, now)
        self._held.difference_update(c.id for c in claims)
        report.dropped += len(claims)


def _correction_outcome(error: SendError) -> str:
    if isinstance(error, ChatGone):
        return "dropped"
    if isinstance(error, Permanent):
        return "failed"
    return "pending"  # flood control or a transient error: the next run tries again


def _warn_ambiguous(claim: ClaimedDelivery, index: int, total: int, reason: str) -> None:
    log.warning(
        "ambiguous robot message: chat=%s delivery=%s message=%d/%d may not have arrived (%s)",
        claim.chat_id,
        claim.id,
        index + 1,
        total,
        reason,
    )


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
