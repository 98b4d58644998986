"""Batch-shaped platforms: one call carries a message to many chats (engine.py, "batch").

Deliveries of one platform that share a rendering and a checkpoint form a batch of at most
the sender's `batch_size`; the batch is sent as one unit, message by message, each message
in ONE call to every chat still in it. Per call: a batch slot (`batch_concurrency`; the
chats sent alone, e.g. robots, use the ordinary slots beside it) -> the platform's flood
pause and global token -> the sender's windows for every chat of the call -> send ->
every chat's checkpoint acknowledged by the writer (one group commit) -> slot freed. The
crash bound is the engine's: at most the call in flight is repeated, and a batch sender
promises that such a repeat is harmless (WeCom's duplicate check).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from bot.delivery.courier import Courier, Lane
from bot.delivery.jobs import Job
from bot.delivery.types import (
    BatchResult,
    ChatGone,
    RetryAfter,
    SendError,
    Transient,
)
from bot.delivery.writer import ClaimLost
from bot.redaction import describe
from storage.deliveries.writes import Progress

log = logging.getLogger(__name__)
GONE = "not reachable by the platform"


def batches(lane: Lane, jobs: Iterable[Job]) -> Iterator[list[Job]]:
    """Deliveries (not corrections) the lane may batch, grouped by rendering and
    checkpoint, in claim order, at most `batch_size` each."""
    size = max(1, int(getattr(lane.sender, "batch_size", 1)))
    groups: dict[tuple[int | None, int], list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.rendering_id, job.sent), []).append(job)
    for group in groups.values():
        for start in range(0, len(group), size):
            yield group[start : start + size]


def batchable(lane: Lane, job: Job) -> bool:
    check = getattr(lane.sender, "batchable", None)
    return (
        lane.shape == "batch"
        and job.kind == "delivery"
        and not job.done
        and (check is None or bool(check(job.chat_id)))
    )


async def deliver_batch(courier: Courier, jobs: list[Job]) -> None:
    """Send what is left of the batch; raises a database error (ClaimLost is handled)."""
    lane = courier.lanes[jobs[0].platform]
    live = [job for job in jobs if job.subscriber_id not in courier.gone]
    for job in jobs:
        if job not in live:  # another delivery found the chat gone
            reason = courier.gone[job.subscriber_id]
            await _quietly_lost(courier._drop(job, reason, deactivate=False))
    failures = 0
    while live and not live[0].done:
        resting = courier.is_resting(jobs[0].platform)
        if courier.stopping or courier.is_paused(live[0]) or resting:
            for job in live:
                await courier.release(job)
            return
        outcome = await _call(courier, lane, live)
        if isinstance(outcome, list):
            failures, live = 0, outcome
            continue
        error = outcome
        if isinstance(error, RetryAfter):  # the pause is set: retry the same message
            courier.report.rate_limited += 1
        elif isinstance(error, ChatGone):  # the whole call: none of its chats is reachable
            for job in live:
                await _quietly_lost(courier._drop(job, describe(error)))
            return
        elif isinstance(error, Transient) and failures + 1 < courier.policy.settings.max_attempts:
            failures += 1
            courier._note_error(live[0], error)
            courier.report.retries += 1
            await courier.sleep(courier.policy.backoff(failures))
        elif isinstance(error, Transient) and lane.exhausted == "release":
            courier._note_error(live[0], error)
            await courier.give_back(live, error)
            return
        else:
            courier._note_error(live[0], error)
            for job in live:
                await courier._finish(job, "failed", describe(error))
            return
    courier.report.deliveries_sent += len(live)


async def _call(courier: Courier, lane: Lane, live: list[Job]) -> list[Job] | SendError:
    """One attempt at the batch's next message; holds a slot until it is recorded (the
    crash bound: one call in flight per slot). The chats still live, or the error."""
    chats = [job.chat_id for job in live]
    message = live[0].messages[live[0].sent]
    async with lane.batch_slots or lane.slots:
        try:
            await lane.gate.ready()
            if lane.windows is not None:
                await lane.windows.acquire(chats)
            for job in live:
                job.busy = True
            sender: Any = lane.sender
            result: BatchResult = await sender.send_batch(chats, message)
        except RetryAfter as exc:  # pause everyone before anyone else calls
            lane.gate.pause.extend(exc.seconds + courier.policy.settings.retry_margin_seconds)
            return exc
        except SendError as exc:
            return exc
        except Exception as exc:  # an unclassified failure is retried, not fatal
            log.warning("sender %s raised %r", lane.sender.platform, exc)
            return Transient(f"{type(exc).__name__}: {exc}")
        finally:
            for job in live:
                job.busy = False
        courier.report.calls += 1
        courier.report.messages_sent += len(result.delivered)
        return await _record(courier, live, result)


async def _record(courier: Courier, live: list[Job], result: BatchResult) -> list[Job]:
    """Checkpoint every chat the call reached, drop those it says are gone; the batch's
    chats still live."""
    gone = set(result.gone)
    kept = [job for job in live if job.chat_id not in gone]
    for job in live:
        job.busy = True
        if job.chat_id in gone:
            await _quietly_lost(courier._drop(job, GONE))
    for job in kept:
        job.sent += 1
    writes = [
        courier.writer.checkpoint(
            Progress(job.id, job.sent, "sent" if job.done else "sending"), job.attempts, job.kind
        )
        for job in kept
    ]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    still = []
    for job, outcome in zip(kept, outcomes, strict=True):
        job.busy = False
        if isinstance(outcome, ClaimLost):
            log.warning("%s", outcome)
            courier.report.deliveries_lost += 1
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            still.append(job)
    return still


async def _quietly_lost(drop: Any) -> None:
    try:
        await drop
    except ClaimLost as exc:
        log.warning("%s", exc)
