"""The delivery engine: drains delivery rows through platform senders, within limits.

Pipeline, bounded at every stage so memory is flat in the number of subscribers:

* the feeder claims pending rows in id-keyed batches (`batch_size`), only while fewer
  than `window` deliveries are held;
* each held delivery is one task that sends its chat's messages in order; per message
  (bot/delivery/courier.py):
  1. wait until the chat's bucket has a token (taking none: the chat's rate is waited
     out before anything scarce is held);
  2. a sending slot (`workers` per platform);
  3. the chat's turn (one request in flight per chat, replies included), taking the
     chat's token;
  4. the platform's flood pause, if one is on;
  5. a global token (a pause begun meanwhile is waited out again);
  6. send;
  7. the turn ends once the answer is in;
  8. the checkpoint is acknowledged by the writer;
  9. the slot is freed;
* the writer (writer.py) is the only task writing to the database and group-commits
  the checkpoints of all slots in one transaction;
* a heartbeat renews the held rows' `updated_at` (what `requeue_stale` judges claims
  made without an instance by); an instance's claims live by its own heartbeat.

Crash bound: a delivery's `messages_sent` advances only after the platform accepted the
message, and a slot is freed (and the chat's next message sent) only after that
checkpoint is committed. So at any instant at most one accepted-but-unrecorded
message exists per slot; after a kill, the rows go back to pending and any engine
resends from the checkpoint: nothing is lost, and at most one message per slot
(`workers` per platform) is repeated — exactly those in flight at the crash. Rows go
back once the claiming instance's heartbeat lapses (`claimant`: storage.instances, on
the database's clock, `stale_seconds` after its death), or, for claims made without an
instance (no `claimant`: tests, benchmarks, a version predating instance ids; one-shot
drains are short-lived instances), once the rows' own heartbeat is `stale_after` old.

Corrections of published issues (storage/corrections.py) are a second outbox with the
same protocol: claimed after deliveries in the same window, sent by the same courier
through the same slots and buckets (an edit costs a token like a send), checkpointed by
the same writer (`kind` 'correction'), so the crash bound above holds for them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DeliverySettings
from bot.delivery import pauses
from bot.delivery.courier import Courier, Lane, Policy
from bot.delivery.jobs import Job, RenderingCache
from bot.delivery.ratelimit import Clock, Gate, RateLimits, Sleep
from bot.delivery.report import DrainReport
from bot.delivery.types import AlertSink, Sender
from bot.delivery.writer import ClaimLost, CommitQueue
from storage import corrections
from storage.clock import utcnow
from storage.corrections import ClaimedCorrection
from storage.deliveries import writes as store
from storage.deliveries.writes import ClaimedDelivery

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineTuning:
    """Engine knobs that are not (yet) in DeliverySettings."""

    stale_after: float = 60.0  # seconds without heartbeat before a claim counts as orphaned
    backoff_base: float = 1.0  # first transient retry waits this long, then doubles
    backoff_max: float = 60.0
    error_window: float = 60.0  # error bursts are counted over this many seconds
    idle_poll: float = 2.0  # run_forever: look for new deliveries this often when idle
    window: int | None = None  # deliveries held at once; None: 2 x batch_size
    max_commit_batch: int = 1000
    rendering_cache: int = 64


class DeliveryEngine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        settings: DeliverySettings,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        notifier: AlertSink | None = None,
        limits: Mapping[str, RateLimits | None] | None = None,
        gates: Mapping[str, Gate] | None = None,
        tuning: EngineTuning | None = None,
        wall: Callable[[], datetime] = utcnow,
        claimant: str | None = None,
    ) -> None:
        """`clock`/`sleep` drive flood pauses, backoff and error windows (buckets run on
        the event loop's clock). `limits` per platform; by default Telegram gets
        `settings`' limits and other platforms none. `gates` are platforms' gates built by
        the caller and shared with its other senders (command replies and alerts take the
        same buckets); they win over `limits`. `wall` stamps database rows. `claimant` is the
        instance id stamped on claims (bot/cluster): they last as long as its heartbeat."""
        self._sessions = sessions
        self._claimant = claimant
        self._settings = settings
        self._tuning = tuning = tuning or EngineTuning()
        self._wall = wall
        if limits is None:
            limits = {"telegram": RateLimits.from_settings(settings)}
        shared = gates or {}
        lanes = {
            platform: Lane(
                sender,
                shared.get(platform) or Gate(limits.get(platform), clock, sleep),
                self._slots(),
            )
            for platform, sender in senders.items()
        }
        self._window = tuning.window or 2 * settings.batch_size
        self._renderings = RenderingCache(sessions, tuning.rendering_cache)
        self._writer = CommitQueue(sessions, wall, asyncio.sleep, tuning.max_commit_batch)
        self.report = DrainReport()
        policy = Policy(settings, tuning.backoff_base, tuning.backoff_max, tuning.error_window)
        errors = pauses.ErrorBurst(settings.error_burst, tuning.error_window, clock)
        self._courier = Courier(
            lanes, policy, self._writer, self.report, errors, sleep, wall, notifier
        )
        self._jobs: dict[tuple[str, int], Job] = {}
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._fatal: BaseException | None = None
        self._running = False

    def _slots(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(self._settings.workers)

    @property
    def held(self) -> int:
        """Deliveries claimed and not yet finished (bounded by the window)."""
        return len(self._jobs)

    # ---- running ----------------------------------------------------------------------

    async def run_until_idle(self) -> DrainReport:
        """Send every delivery claimable now (and any that appear meanwhile), then return."""
        return await self._run(None)

    async def run_forever(self, stop_event: asyncio.Event) -> DrainReport:
        """Keep draining, polling for new deliveries, until `stop_event` is set.

        On stop, sends under way finish and are recorded; the rest go back to pending.
        """
        return await self._run(stop_event)

    async def _run(self, stop: asyncio.Event | None) -> DrainReport:
        if self._running:
            raise RuntimeError("this DeliveryEngine is already running")
        self._running, self._courier.stopping, self._fatal = True, False, None
        started = time.monotonic()
        self._writer.start()
        helpers = [asyncio.create_task(self._heartbeat(), name="delivery-heartbeat")]
        if stop is not None:
            helpers.append(asyncio.create_task(self._watch(stop), name="delivery-stop"))
        try:
            await self._requeue_orphans()
            await self._feed(stop)
        finally:
            await self._shutdown(helpers)
            self.report.elapsed += time.monotonic() - started
            self.report.commits = self._writer.commits
            self._running = False
        if self._fatal is not None:
            raise self._fatal
        return self.report

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _should_stop(self, stop: asyncio.Event | None) -> bool:
        return self._fatal is not None or (stop is not None and stop.is_set())

    async def _feed(self, stop: asyncio.Event | None) -> None:
        """Claim while the window has room; in run_until_idle, return once all is done."""
        loop = asyncio.get_running_loop()
        last_orphan_check = loop.time()
        dry_until = 0.0  # after finding nothing, look again only then (or once all are done)
        while not self._should_stop(stop):
            self._wake.clear()
            free = self._window - len(self._jobs)
            roomy = free >= self._claim_threshold() and loop.time() >= dry_until
            if free > 0 and (roomy or not self._jobs):
                await self._refresh_paused()
                claimed = await self._claim(min(free, self._settings.batch_size))
                if claimed:
                    await self._start(claimed)
                    continue
                if not self._jobs and stop is None:
                    if await self._requeue_orphans():
                        continue
                    return
                dry_until = loop.time() + (self._tuning.idle_poll if stop else float("inf"))
            if stop is not None and loop.time() - last_orphan_check > self._tuning.stale_after / 2:
                await self._requeue_orphans()
                last_orphan_check = loop.time()
            timeout = self._tuning.idle_poll if stop is not None else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _claim_threshold(self) -> int:
        return max(1, min(self._settings.batch_size, self._window) // 4)

    async def _claim(self, limit: int) -> list[ClaimedDelivery | ClaimedCorrection]:
        """Deliveries first (an issue's first push outranks fixing an earlier one), then
        corrections in the room left: both under the same window, slots and buckets."""
        platforms = sorted(self._courier.lanes)
        exclude = sorted(self._courier.paused)

        async def op(session: AsyncSession) -> list[ClaimedDelivery | ClaimedCorrection]:
            now = self._wall()
            claimed: list[ClaimedDelivery | ClaimedCorrection] = []
            claimed += await store.claim_for_sending(
                session,
                limit,
                now,
                platforms=platforms,
                exclude_issues=exclude,
                claimed_by=self._claimant,
            )
            claimed += await corrections.claim_corrections(
                session,
                limit - len(claimed),
                now,
                platforms=platforms,
                exclude_issues=exclude,
                claimed_by=self._claimant,
            )
            return claimed

        return await self._writer.call(op)

    async def _start(self, claimed: list[ClaimedDelivery | ClaimedCorrection]) -> None:
        deliveries = [c for c in claimed if isinstance(c, ClaimedDelivery)]
        messages = await self._renderings.messages_for(deliveries)
        for claim in claimed:
            if isinstance(claim, ClaimedDelivery):
                found = claim.rendering_id in messages
                job = Job.from_claim(claim, messages.get(claim.rendering_id, ()))
            else:
                found, job = True, Job.from_correction(claim)
            self._jobs[job.key] = job
            name = f"{job.kind}-{job.id}"
            task = asyncio.create_task(self._deliver(job, found), name=name)
            self._tasks[job.key] = task
            task.add_done_callback(lambda _t, key=job.key: self._finished(key))

    def _finished(self, key: tuple[str, int]) -> None:
        self._jobs.pop(key, None)
        self._tasks.pop(key, None)
        self._wake.set()

    async def _deliver(self, job: Job, found: bool) -> None:
        try:
            await self._courier.deliver(job, found)
        except ClaimLost as exc:
            log.warning("%s", exc)
            self.report.deliveries_lost += 1
        except Exception as exc:  # the database failed: stop the engine, keep the rows
            log.exception("%s %d failed", job.kind, job.id)
            self._jobs.pop(job.key, None)  # its row stays 'sending' and is requeued later
            if self._fatal is None:
                self._fatal = exc
            self._wake.set()

    async def _shutdown(self, helpers: list[asyncio.Task[None]]) -> None:
        """Let sends under way finish and record them; hand every other held row back."""
        self._courier.stopping = True
        interrupted = []
        for key, task in list(self._tasks.items()):
            job = self._jobs.get(key)
            if job is not None and not job.busy:
                task.cancel()
                interrupted.append((job, task))
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        # Stopped while waiting, so their checkpoints are exact; one group commit.
        await asyncio.gather(
            *(
                self._courier.release(job, quiet=True)
                for job, task in interrupted
                if task.cancelled()
            )
        )
        await asyncio.gather(*self._courier.side_tasks, return_exceptions=True)
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await self._writer.close()

    async def _heartbeat(self) -> None:
        while True:  # real time, not the injected sleep: it races the database's clock
            await asyncio.sleep(self._tuning.stale_after / 4)
            keys = list(self._jobs)
            if keys:

                async def op(session: AsyncSession, keys: list[tuple[str, int]] = keys) -> int:
                    now = self._wall()
                    ids = [id_ for kind, id_ in keys if kind == "delivery"]
                    fixes = [id_ for kind, id_ in keys if kind == "correction"]
                    touched = await store.touch_claimed(session, ids, now)
                    return touched + await corrections.touch_corrections(session, fixes, now)

                await self._writer.call(op)

    async def _requeue_orphans(self) -> int:
        older_than = self._wall() - timedelta(seconds=self._tuning.stale_after)

        async def op(session: AsyncSession) -> int:
            count = await store.requeue_stale(session, older_than)
            return count + await corrections.requeue_stale_corrections(session, older_than)

        count = await self._writer.call(op)
        if count:
            log.warning("requeued %d delivery(ies) left sending by a dead process", count)
            self.report.requeued += count
        return count

    async def _refresh_paused(self) -> None:
        async with self._sessions() as session:
            saved = set(await pauses.paused_issues(session))
        self._courier.paused = saved | self._courier.tripped
