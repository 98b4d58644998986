"""The delivery engine: drains delivery rows through platform senders, within limits.

Pipeline, bounded at every stage so memory is flat in the number of subscribers:

* the feeder claims pending rows in id-keyed batches (`batch_size`, or a batch sender's
  `batch_size` when larger, so that one claim can fill its call), only while fewer
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
While corrections are off (configuration or an admin's switch) none is claimed: queued
ones wait, and go out or expire when they are on again (correction_terms.py).

Shapes (bot/delivery/types.py): what a platform's sender states, and what the engine
then does; claim, checkpoint, heartbeat, requeue, retry, pause and release stay the above.

* "single": as above, one message to one chat per call.
* "batch" (bot/delivery/batches.py): claimed deliveries sharing a rendering and a
  checkpoint go as one unit of at most the sender's `batch_size` chats, each message in
  one call to all of them, holding one batch slot until every chat's checkpoint is
  committed (`workers` batch slots, or the sender's `batch_concurrency` if lower).
  The crash bound is the same per slot, one CALL: the sender promises that repeating it
  is harmless (WeCom's duplicate check). Units sharing a chat run one after the other
  (a chat's older issue first). The sender's `windows` are taken for every chat of a
  call before it.
* at-most-once chats (`at_most_once`, e.g. WeCom robots, whose webhook has no duplicate
  check): the message is checkpointed as sent, with an "in flight" note, BEFORE the call,
  and the answer clears the note. A kill during the call leaves the note: the next run
  warns ("ambiguous at-most-once message") and goes on with the next message; a call
  that got no answer (`MaybeSent`) is counted as sent with the same warning. So such a
  chat may lose the one message in flight at a crash or timeout, never see it twice;
  definite refusals are retried as usual.
* "campaign" (bot/delivery/campaigns.py): an issue's rows on the platform are ONE claim
  (storage.deliveries.campaigns: claimed together, kept by the same heartbeat, requeued
  together when the claimant dies), sent as a few audience-wide sends (parts). The sender
  records each part in its ledger, with the quota it states, before the call and after
  it, and each call carries a client message id derived from (issue, part): a part in
  flight at a kill is repeated by the next claimant under the same id and refused by the
  platform as a duplicate (WeChat's 45065), so no part goes out twice; the rows are
  settled only once every part is recorded. Corrections of such a platform are claimed
  and sent the same way (their ledger names carry the day: one a day per part).
* retries exhausted fail the delivery, unless the sender says `exhausted = "release"`:
  then its rows go back to pending at their checkpoints and the platform rests (no
  claims) for the rest of a run_until_idle, or `backoff_max` seconds in run_forever.

A BaseException other than cancellation raised by a send (a simulated kill in tests)
stops the engine as a kill would: every other unit, the heartbeat and the writer are
cancelled before anything else runs, so nothing more is sent or recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DeliverySettings
from bot.delivery import pauses
from bot.delivery.batches import batchable, batches, deliver_batch
from bot.delivery.campaigns import campaign_job, deliver_campaign
from bot.delivery.correction_terms import CorrectionGate, CorrectionTerms
from bot.delivery.courier import Courier, Lane, Policy
from bot.delivery.jobs import Job, RenderingCache
from bot.delivery.ratelimit import Clock, Gate, RateLimits, Sleep
from bot.delivery.report import DrainReport
from bot.delivery.types import AlertSink, Sender
from bot.delivery.writer import ClaimLost, CommitQueue
from storage import corrections
from storage.clock import utcnow
from storage.corrections import ClaimedCorrection
from storage.deliveries import campaigns
from storage.deliveries import writes as store
from storage.deliveries.campaigns import ClaimedCampaign
from storage.deliveries.writes import ClaimedDelivery

log = logging.getLogger(__name__)
Claimed = ClaimedDelivery | ClaimedCorrection | ClaimedCampaign


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
        corrections: CorrectionTerms | None = None,
    ) -> None:
        """`clock`/`sleep` drive flood pauses, backoff and error windows (buckets run on
        the event loop's clock). `limits` per platform; by default Telegram gets
        `settings`' limits and other platforms none. `gates` are platforms' gates built by
        the caller and shared with its other senders (command replies and alerts take the
        same buckets); they win over `limits`. `wall` stamps database rows. `claimant` is the
        instance id stamped on claims (bot/cluster): they last as long as its heartbeat.
        `corrections`: publish.corrections and its window (default: on, 48 hours)."""
        self._sessions = sessions
        self._claimant = claimant
        self._settings = settings
        self._tuning = tuning = tuning or EngineTuning()
        self._wall = wall
        self._corrections = CorrectionGate(corrections or CorrectionTerms())
        if limits is None:
            limits = {"telegram": RateLimits.from_settings(settings)}
        shared = gates or {}
        lanes = {
            platform: Lane.of(
                sender,
                shared.get(platform) or Gate(limits.get(platform), clock, sleep),
                self._slots(None),
                self._slots(getattr(sender, "batch_concurrency", None)),
            )
            for platform, sender in senders.items()
        }
        # A claim must be able to fill a batch sender's call (WeCom: 1000 members).
        self._claim_size = max(
            [settings.batch_size, *(int(getattr(s, "batch_size", 0)) for s in senders.values())]
        )
        self._window = tuning.window or 2 * self._claim_size
        self._renderings = RenderingCache(sessions, tuning.rendering_cache)
        self._writer = CommitQueue(sessions, wall, asyncio.sleep, tuning.max_commit_batch)
        self.report = DrainReport()
        policy = Policy(settings, tuning.backoff_base, tuning.backoff_max, tuning.error_window)
        errors = pauses.ErrorBurst(settings.error_burst, tuning.error_window, clock)
        self._courier = Courier(
            lanes, policy, self._writer, self.report, errors, sleep, wall, notifier, claimant
        )
        self._jobs: dict[tuple[str, int], Job] = {}
        self._tasks: dict[asyncio.Task[None], list[Job]] = {}  # a unit of work: its jobs
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}  # a chat's last unit
        self._wake = asyncio.Event()
        self._woken = False  # wake() was called: claim at the next turn, idle poll or not
        self._fatal: BaseException | None = None
        self._killed: BaseException | None = None
        self._until_idle = False
        self._running = False
        self._helpers: list[asyncio.Task[None]] = []
        self._dead: list[asyncio.Task[None]] = []  # the writer, cancelled by _kill

    def _slots(self, concurrency: int | None) -> asyncio.Semaphore:
        """`workers` sending slots, or fewer when the sender states a lower concurrency."""
        return asyncio.Semaphore(min(self._settings.workers, concurrency or self._settings.workers))

    def wake(self) -> None:
        """Look for claimable work now, not at the next idle poll: rows were handed back
        to pending (a dead instance's, by this instance's heartbeat: bot/cluster)."""
        self._woken = True
        self._wake.set()

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
        self._killed = None
        self._until_idle = stop is None
        self._courier.resting.clear()  # a new run tries resting platforms again
        started = time.monotonic()
        self._writer.start()
        helpers = [asyncio.create_task(self._heartbeat(), name="delivery-heartbeat")]
        if stop is not None:
            helpers.append(asyncio.create_task(self._watch(stop), name="delivery-stop"))
        self._helpers = helpers
        try:
            await self._requeue_orphans()
            await self._feed(stop)
        finally:
            if self._killed is None:
                await self._shutdown(helpers)
            else:  # all cancelled by _kill: let them unwind, write nothing
                await asyncio.gather(*self._tasks, *helpers, *self._dead, return_exceptions=True)
            self.report.elapsed += time.monotonic() - started
            self.report.commits = self._writer.commits
            self._running = False
        if self._killed is not None:
            raise self._killed
        if self._fatal is not None:
            raise self._fatal
        return self.report

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _should_stop(self, stop: asyncio.Event | None) -> bool:
        dead = self._fatal is not None or self._killed is not None
        return dead or (stop is not None and stop.is_set())

    async def _feed(self, stop: asyncio.Event | None) -> None:
        """Claim while the window has room; in run_until_idle, return once all is done."""
        loop = asyncio.get_running_loop()
        last_orphan_check = loop.time()
        dry_until = 0.0  # after finding nothing, look again only then (or once all are done)
        while not self._should_stop(stop):
            self._wake.clear()
            if self._woken:  # set during a claim that found nothing too: not lost
                self._woken, dry_until = False, 0.0
            free = self._window - len(self._jobs)
            roomy = free >= self._claim_threshold() and loop.time() >= dry_until
            if free > 0 and (roomy or not self._jobs):
                await self._refresh_paused()
                claimed = await self._claim(min(free, self._claim_size))
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
        return max(1, min(self._claim_size, self._window) // 4)

    async def _claim(self, limit: int) -> list[Claimed]:
        """Deliveries first (an issue's first push outranks fixing an earlier one), then
        corrections in the room left: both under the same window, slots and buckets; and
        the campaign of each campaign-shaped platform not running one already."""
        lanes = self._courier.lanes
        claimable = self._claimable()
        platforms = [p for p in claimable if lanes[p].shape != "campaign"]
        running = {job.platform for job in self._jobs.values() if job.campaign is not None}
        campaigning = [p for p in claimable if lanes[p].shape == "campaign" and p not in running]
        # Pauses are per platform (pauses.py): platforms sharing their paused issues are
        # claimed together.
        groups: dict[tuple[int, ...], list[str]] = {}
        for platform in platforms:
            groups.setdefault(tuple(self._courier.excluded(platform)), []).append(platform)
        excluded = self._courier.excluded

        async def op(session: AsyncSession) -> list[Claimed]:
            now = self._wall()
            claimed: list[Claimed] = []
            fixes = await self._corrections.open(session, now)  # else they wait, pending
            kinds = ("delivery", "correction") if fixes else ("delivery",)
            for platform in campaigning:  # an issue's first push before corrections
                for kind in kinds:
                    campaign = await campaigns.claim_campaign(
                        session,
                        platform,
                        now,
                        claimed_by=self._claimant,
                        exclude_issues=excluded(platform),
                        kind=kind,
                    )
                    if campaign is not None:
                        claimed.append(campaign)
                        break
            for exclude, group in groups.items():
                claimed += await store.claim_for_sending(
                    session,
                    limit - sum(1 for c in claimed if isinstance(c, ClaimedDelivery)),
                    now,
                    platforms=group,
                    exclude_issues=exclude,
                    claimed_by=self._claimant,
                )
            for exclude, group in groups.items() if fixes else ():
                claimed += await corrections.claim_corrections(
                    session,
                    limit - sum(1 for c in claimed if not isinstance(c, ClaimedCampaign)),
                    now,
                    platforms=group,
                    exclude_issues=exclude,
                    claimed_by=self._claimant,
                )
            return claimed

        return await self._writer.call(op)

    def _claimable(self) -> list[str]:
        """Platforms to claim for: not those resting after retries ran out (for the rest
        of a run_until_idle; in run_forever until their rest is over)."""
        now = asyncio.get_running_loop().time()
        resting = self._courier.resting
        return sorted(
            p
            for p in self._courier.lanes
            if p not in resting or (not self._until_idle and resting[p] <= now)
        )

    async def _start(self, claimed: list[Claimed]) -> None:
        deliveries = [c for c in claimed if isinstance(c, ClaimedDelivery)]
        messages = await self._renderings.messages_for(deliveries)
        jobs: list[tuple[Job, bool]] = []
        for claim in claimed:
            if isinstance(claim, ClaimedCampaign):
                job = campaign_job(claim)
                self._jobs[job.key] = job
                self._spawn([job], partial(deliver_campaign, self._courier, job))
                continue
            if isinstance(claim, ClaimedDelivery):
                found = claim.rendering_id in messages
                job = Job.from_claim(claim, messages.get(claim.rendering_id, ()))
            else:
                found, job = True, Job.from_correction(claim)
            self._jobs[job.key] = job
            jobs.append((job, found))
        grouped: dict[str, list[Job]] = {}
        for job, found in jobs:
            lane = self._courier.lanes[job.platform]
            if found and batchable(lane, job):
                grouped.setdefault(job.platform, []).append(job)
            else:
                self._spawn([job], partial(self._courier.deliver, job, found))
        for platform, batchable_jobs in grouped.items():
            for batch in batches(self._courier.lanes[platform], batchable_jobs):
                self._spawn(batch, partial(deliver_batch, self._courier, batch))

    def _spawn(self, jobs: list[Job], work: Callable[[], Awaitable[None]]) -> None:
        """Run one unit of work (a delivery, or a batch of them). On batch-shaped
        platforms a unit starts once earlier units sharing a chat are done: a chat gets
        its older issue first, as it would one delivery at a time."""
        ordered = self._courier.lanes[jobs[0].platform].shape == "batch"
        chats = [(job.platform, job.chat_id) for job in jobs]
        after = {self._tails[c] for c in chats if c in self._tails} if ordered else set()
        name = f"{jobs[0].kind}-{jobs[0].id}" + (f"+{len(jobs) - 1}" if len(jobs) > 1 else "")
        task = asyncio.create_task(self._unit(jobs, work, after), name=name)
        self._tasks[task] = jobs
        if ordered:
            self._tails.update(dict.fromkeys(chats, task))
        task.add_done_callback(lambda t: self._finished(t, chats))

    def _finished(self, task: asyncio.Task[None], chats: list[tuple[str, str]]) -> None:
        for job in self._tasks.pop(task, []):
            self._jobs.pop(job.key, None)
        for chat in chats:
            if self._tails.get(chat) is task:
                del self._tails[chat]
        self._wake.set()

    async def _unit(
        self, jobs: list[Job], work: Callable[[], Awaitable[None]], after: set[asyncio.Task[None]]
    ) -> None:
        try:
            if after:
                await asyncio.wait(after)
            await work()
        except ClaimLost as exc:
            log.warning("%s", exc)
            self.report.deliveries_lost += 1
        except Exception as exc:  # the database failed: stop the engine, keep the rows
            log.exception("%s %d failed", jobs[0].kind, jobs[0].id)
            for job in jobs:  # its rows stay 'sending' and are requeued later
                self._jobs.pop(job.key, None)
            if self._fatal is None:
                self._fatal = exc
            self._wake.set()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the process is dying (a simulated kill in tests)
            self._kill(exc)
            raise

    def _kill(self, exc: BaseException) -> None:
        """Stop at once, as a kill would: every other unit, the helpers and the writer are
        cancelled before the event loop runs anything else, so nothing more is sent or
        written (queued checkpoints included)."""
        if self._killed is not None:
            return
        self._killed = exc
        current = asyncio.current_task()
        for task in [*self._tasks, *self._helpers]:
            if task is not current:
                task.cancel()
        writer = self._writer.abort()
        self._dead = [writer] if writer is not None else []
        self._wake.set()

    async def _shutdown(self, helpers: list[asyncio.Task[None]]) -> None:
        """Let sends under way finish and record them; hand every other held row back."""
        self._courier.stopping = True
        interrupted = []
        for task, jobs in list(self._tasks.items()):
            if not any(job.busy for job in jobs):
                task.cancel()
                interrupted.append((jobs, task))
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Stopped while waiting, so their checkpoints are exact; one group commit.
        await asyncio.gather(
            *(
                self._courier.release(job, quiet=True)
                for jobs, task in interrupted
                if task.cancelled()
                for job in jobs
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
                held = [self._jobs[k].campaign for k in keys if k in self._jobs]
                claims = [claim for claim in held if claim is not None]

                async def op(
                    session: AsyncSession,
                    keys: list[tuple[str, int]] = keys,
                    claims: list[ClaimedCampaign] = claims,
                ) -> int:
                    now = self._wall()
                    ids = [id_ for kind, id_ in keys if kind == "delivery"]
                    fixes = [id_ for kind, id_ in keys if kind == "correction"]
                    touched = await store.touch_claimed(session, ids, now)
                    for claim in claims:
                        touched += await campaigns.touch_campaign(
                            session, claim, self._claimant, now
                        )
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
            saved = pauses.paused_pairs(await pauses.paused_issues(session))
        self._courier.paused = saved | self._courier.tripped
