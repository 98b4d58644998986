"""One claimed delivery, sent in order under the error policy.

Per message: the chat's bucket has a token -> a sending slot -> the chat's turn and
token -> flood pause -> global bucket -> send -> turn ends -> checkpoint acknowledged by
the writer -> slot freed. The turn keeps one request in flight per chat, replies
included (bot/delivery/ratelimit.py); a reply waiting for it hurries the holder along.
Outcomes: flood control pauses the platform and retries the same message; a gone chat
deactivates the subscriber and drops the rest; a migrated chat is followed; transient
errors back off exponentially (outside any slot, so other chats go on) up to
`max_attempts`; a refused message fails the delivery. Too many errors within a window
pause the issue and alert admins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DeliverySettings
from bot.delivery import pauses
from bot.delivery.jobs import Job
from bot.delivery.ratelimit import Chat, Gate, Sleep
from bot.delivery.report import DrainReport
from bot.delivery.types import (
    AlertSink,
    ChatGone,
    ChatMigrated,
    DeliveryAlert,
    MaybeSent,
    RetryAfter,
    Sender,
    SendError,
    Transient,
    Windows,
)
from bot.delivery.writer import ClaimLost, CommitQueue
from bot.redaction import describe
from storage import subscribers
from storage.deliveries import campaigns
from storage.deliveries import writes as store
from storage.deliveries.writes import Progress
from storage.issues import get_summary

log = logging.getLogger(__name__)
MAX_MIGRATIONS = 3  # per delivery: a chat bouncing between ids is a failure
IN_FLIGHT = "in flight: "  # an at-most-once delivery's note while its next message is out
MAYBE_SENT = object()  # _call's result when the answer never came


@dataclass(slots=True)
class Lane:
    """A platform: its sender, limits and sending slots (`workers` of them).

    What the sender states (bot/delivery/types.py) is read once here: its `shape`, its own
    send `windows` (taken before every call), which chats must get a message at most once,
    and whether retries exhausted fail the deliveries ("fail") or hand them back for a
    later run ("release": a batch of a thousand members is not failed for an outage).
    """

    sender: Sender
    gate: Gate
    slots: asyncio.Semaphore
    batch_slots: asyncio.Semaphore | None = None  # batch calls (batches.py); None: `slots`
    shape: str = "single"
    windows: Windows | None = None
    exhausted: str = "fail"

    @classmethod
    def of(
        cls, sender: Any, gate: Gate, slots: asyncio.Semaphore, batch_slots: asyncio.Semaphore
    ) -> Lane:
        shape = str(getattr(sender, "shape", "single"))
        windows = getattr(sender, "windows", None)
        exhausted = str(getattr(sender, "exhausted", "fail"))
        return cls(sender, gate, slots, batch_slots, shape, windows, exhausted)

    def at_most_once(self, chat_id: str) -> bool:
        check = getattr(self.sender, "at_most_once", None)
        return bool(check(chat_id)) if check is not None else False


@dataclass(frozen=True, slots=True)
class Policy:
    settings: DeliverySettings
    backoff_base: float
    backoff_max: float
    error_window: float

    def backoff(self, failures: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))


@dataclass
class Courier:
    lanes: dict[str, Lane]
    policy: Policy
    writer: CommitQueue
    report: DrainReport
    errors: pauses.ErrorBurst
    sleep: Sleep
    wall: Callable[[], datetime]
    notifier: AlertSink | None = None
    claimant: str | None = None  # the instance the claims were made as
    # (issue, platform) not to send now; platform None: on every platform (pauses.py)
    paused: set[tuple[int, str | None]] = field(default_factory=set)
    resting: dict[str, float] = field(default_factory=dict)  # platform -> claim again after
    tripped: set[tuple[int, str | None]] = field(default_factory=set)  # paused, not saved yet
    gone: dict[int, str] = field(default_factory=dict)  # subscribers deactivated: why
    stopping: bool = False
    side_tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def deliver(self, job: Job, messages_found: bool = True) -> None:
        """Send what is left of the job; raises ClaimLost, or a database error."""
        lane = self.lanes[job.platform]
        kind = lane.sender.chat_kind(job.chat_id)
        # Keyed by chat id, as replies to the chat are (one subscriber is one chat).
        async with lane.gate.chats.hold(job.chat_id, kind) as chat:
            if not messages_found:
                await self._finish(job, "failed", "rendering missing")
            elif job.subscriber_id in self.gone:  # another delivery found the chat gone
                await self._drop(job, self.gone[job.subscriber_id], deactivate=False)
            else:
                if lane.at_most_once(job.chat_id):  # the last message too may be the one
                    await self._warn_if_in_flight(job)
                if job.done:  # resumed after its last message was already recorded
                    await self._complete(job)
                else:
                    await self._send_all(job, lane, chat)

    async def _send_all(self, job: Job, lane: Lane, chat: Chat) -> None:
        failures = migrations = 0
        while not job.done:
            if self.stopping or self.is_paused(job) or self.is_resting(job.platform):
                await self.release(job)
                return
            await chat.ready()  # the chat's rate, waited out before holding a slot
            error = await self._send_one(job, lane, chat)
            if error is None:
                failures = 0
            elif isinstance(error, RetryAfter):  # the pause is set: retry the same message
                self.report.rate_limited += 1
            elif isinstance(error, ChatMigrated) and migrations < MAX_MIGRATIONS:
                migrations += 1
                if not await self._migrate(job, error.new_chat_id):
                    return
            elif isinstance(error, ChatGone):
                await self._drop(job, describe(error))
                return
            elif isinstance(error, Transient) and failures + 1 < self.policy.settings.max_attempts:
                failures += 1
                self._note_error(job, error)
                self.report.retries += 1
                await self.sleep(self.policy.backoff(failures))
            elif isinstance(error, Transient) and lane.exhausted == "release":
                self._note_error(job, error)
                await self.give_back([job], error)
                return
            else:  # Permanent, retries exhausted, or migrating in circles
                self._note_error(job, error)
                await self._finish(job, "failed", describe(error))
                return
        self.report.deliveries_sent += 1

    def is_paused(self, job: Job) -> bool:
        paused = self.paused
        return (job.issue_id, None) in paused or (job.issue_id, job.platform) in paused

    def excluded(self, platform: str) -> list[int]:
        """Issues not to claim on `platform`."""
        return sorted({i for i, p in self.paused if p is None or p == platform})

    def is_resting(self, platform: str) -> bool:
        """The platform gave up after its retries (`give_back`): held work goes back too."""
        return self.resting.get(platform, 0.0) > asyncio.get_running_loop().time()

    async def give_back(self, jobs: list[Job], error: SendError) -> None:
        """Retries exhausted on a platform whose sender says "release": the jobs go back to
        pending at their checkpoints and the platform rests (no claims) for a while."""
        reason = describe(error)
        log.warning("%s: %d deliveries back to pending: %s", jobs[0].platform, len(jobs), reason)
        self.resting[jobs[0].platform] = asyncio.get_running_loop().time() + self.policy.backoff_max
        for job in jobs:
            job.busy = True
            await self.writer.checkpoint(
                Progress(job.id, job.sent, "pending", reason), job.attempts, job.kind
            )
            self.report.deliveries_released += 1

    async def _send_one(self, job: Job, lane: Lane, chat: Chat) -> SendError | None:
        """One attempt at the job's next message; holds a slot until it is recorded."""
        async with lane.slots:
            try:
                try:
                    async with chat.turn():
                        await lane.gate.ready(urgent=chat.awaited)
                        if lane.windows is not None:
                            await lane.windows.acquire([job.chat_id])
                        job.busy = True
                        message_id = await self._call(job, lane)
                except RetryAfter as exc:  # pause everyone before anyone else gets a turn
                    lane.gate.pause.extend(exc.seconds + self.policy.settings.retry_margin_seconds)
                    return exc
                except SendError as exc:
                    return exc
                except Exception as exc:  # an unclassified failure is retried, not fatal
                    log.warning("sender %s raised %r", job.platform, exc)
                    return Transient(f"{type(exc).__name__}: {exc}")
                job.sent += 1
                self.report.messages_sent += 1
                self.report.calls += message_id is not MAYBE_SENT
                status = "sent" if job.done else "sending"
                progress = Progress(job.id, job.sent, status, None, _id_or_none(message_id))
                await self.writer.checkpoint(progress, job.attempts, job.kind)
                return None
            finally:
                job.busy = False

    async def _call(self, job: Job, lane: Lane) -> object:
        """Send the job's next message. For an at-most-once chat the message is recorded
        as sent (with an "in flight" note) before the call, and an answer that never came
        (`MaybeSent`) counts as sent, with a warning: it is never repeated."""
        message = job.messages[job.sent]
        if not lane.at_most_once(job.chat_id):
            return await lane.sender.send(job.chat_id, message)
        note = f"{IN_FLIGHT}message {job.sent + 1}/{len(job.messages)}"
        await self.writer.checkpoint(
            Progress(job.id, job.sent + 1, "sending", note), job.attempts, job.kind
        )
        try:
            return await lane.sender.send(job.chat_id, message)
        except SendError as exc:
            if not isinstance(exc, MaybeSent):
                raise  # refused for sure: nothing was shown, the retry is safe
            reason = describe(exc)
        except Exception as exc:  # unclassified: it may have been shown
            reason = f"{type(exc).__name__}: {exc}"
        _warn_ambiguous(job, job.sent, reason)
        return MAYBE_SENT

    async def _warn_if_in_flight(self, job: Job) -> None:
        """An earlier run died during the call of message `sent`: say it may be lost."""
        if job.sent == 0:
            return

        async def op(session: AsyncSession) -> dict[int, str]:
            return await store.delivery_notes(session, [job.id], job.kind)

        note = (await self.writer.call(op)).get(job.id, "")
        if note.startswith(IN_FLIGHT):
            _warn_ambiguous(job, job.sent - 1, "in flight when an earlier run stopped; not resent")

    async def _complete(self, job: Job) -> None:
        job.busy = True
        await self.writer.checkpoint(Progress(job.id, job.sent, "sent"), job.attempts, job.kind)
        self.report.deliveries_sent += 1

    async def release(self, job: Job, *, quiet: bool = False, note: str | None = None) -> None:
        """Back to pending at the exact checkpoint (paused issue, engine stopping); a
        campaign's rows all at once."""
        try:
            if job.campaign is not None:
                self.report.deliveries_released += await self._release_campaign(job, note)
                return
            progress = Progress(job.id, job.sent, "pending", note)
            await self.writer.checkpoint(progress, job.attempts, job.kind)
            self.report.deliveries_released += 1
        except Exception:
            if not quiet:
                raise
            log.warning("could not release %s %d; it will be requeued", job.kind, job.id)

    async def _release_campaign(self, job: Job, note: str | None) -> int:
        claim, now, claimant = job.campaign, self.wall(), self.claimant
        assert claim is not None

        async def op(session: AsyncSession) -> int:
            return await campaigns.release_campaign(session, claim, claimant, now, note)

        return await self.writer.call(op)

    async def _finish(self, job: Job, status: str, error: str) -> None:
        job.busy = True
        progress = Progress(job.id, job.sent, status, error)
        await self.writer.checkpoint(progress, job.attempts, job.kind)
        self.report.deliveries_failed += 1

    async def _drop(self, job: Job, reason: str, *, deactivate: bool = True) -> None:
        """The chat is gone: deactivate the subscriber and drop all it still had pending."""
        job.busy = True
        now = self.wall()
        dropped = Progress(job.id, job.sent, "dropped", reason)
        progress = store.Checkpoint(dropped, job.attempts, job.kind)

        async def op(session: AsyncSession) -> set[tuple[str, int]]:
            if deactivate:
                await subscribers.deactivate(session, job.subscriber_id, reason, now)
                others = await store.drop_pending_of_subscriber(
                    session, job.subscriber_id, reason, now
                )
                self.report.deliveries_dropped += others
            return await store.record_progress(session, [progress], now)

        self.gone[job.subscriber_id] = reason
        if job.key in await self.writer.call(op):
            raise ClaimLost(f"{job.kind} {job.id} was claimed elsewhere")
        self.report.deliveries_dropped += 1
        log.info("%s chat %s gone (%s): subscriber deactivated", job.platform, job.chat_id, reason)

    async def _migrate(self, job: Job, new_chat_id: str) -> bool:
        """Follow the chat to its new id; False when the subscriber vanished meanwhile."""
        old, platform = job.chat_id, job.platform

        async def op(session: AsyncSession) -> bool:
            return await subscribers.update_chat_id(session, platform, old, new_chat_id)

        found = await self.writer.call(op)
        self.report.migrated += 1
        log.info("%s chat %s migrated to %s", platform, old, new_chat_id)
        job.chat_id = new_chat_id
        return found

    def _note_error(self, job: Job, error: SendError) -> None:
        key = (job.issue_id, job.platform)
        count = self.errors.record(key)
        if count is not None and not self.is_paused(job):
            self.paused.add(key)
            self.tripped.add(key)
            self.report.paused_issues.append(job.issue_id)
            task = asyncio.create_task(self._pause_issue(job, count, error))
            self.side_tasks.add(task)
            task.add_done_callback(self.side_tasks.discard)

    async def _pause_issue(self, job: Job, count: int, error: SendError) -> None:
        window = self.policy.error_window

        reason = describe(error)

        async def op(session: AsyncSession) -> str:
            summary = await get_summary(session, job.issue_id)
            name = str(summary.key) if summary else f"#{job.issue_id}"
            text = (
                f"Delivery of issue {name} paused: {count} send errors within {window:.0f}s "
                f"(last on {job.platform}: {reason}). Unsent deliveries are kept; resume with "
                f"`briefbot resume {name}` once the cause is fixed."
            )
            await pauses.pause_issue(session, job.issue_id, text, self.wall(), job.platform)
            return text

        text = f"Delivery of issue #{job.issue_id} paused: {count} send errors ({reason})"
        try:
            text = await self.writer.call(op)
            self.tripped.discard((job.issue_id, job.platform))  # saved: a resume now counts
        finally:
            log.error("%s", text)
            if self.notifier is not None:
                alert = DeliveryAlert(text, job.issue_id, job.platform, count)
                await _quietly(self.notifier.alert(alert))


def _warn_ambiguous(job: Job, index: int, reason: str) -> None:
    log.warning(
        "ambiguous at-most-once message: chat=%s %s=%s message=%d/%d may not have arrived (%s)",
        job.chat_id,
        job.kind,
        job.id,
        index + 1,
        len(job.messages),
        reason,
    )


def _id_or_none(message_id: object) -> str | None:
    # Senders predating the contract's return value (or test doubles) may return anything.
    return message_id if isinstance(message_id, str) else None


async def _quietly(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("delivery alert failed")
