"""Leadership from PostgreSQL: a session-level advisory lock on a connection of its own.

The leader runs what must run once: source polling, the publication decision and the
scheduler's jobs (APScheduler 3 keeps its jobs in memory: only the leader schedules)
and Telegram long polling (a second poller gets 409 Conflict). The lock is PostgreSQL's
to release: when the holder's process dies its connection closes and the server drops
the lock at once; when the network goes silent the server drops it once its TCP
keepalives give up (set short on this session). The leader checks its connection every
`heartbeat_seconds` and steps down (stops its work) when a check fails. The server can
drop the lock before the holder notices (an administrator ends its session, the server
restarts): so a new leader waits `takeover_grace` after taking the lock, long enough
for any previous holder's check to have failed, before it starts the work. Standbys try
the lock every `leader_retry_seconds`: a dead leader is replaced within that plus the
grace (plus the keepalives when only the network failed), about 8 s by default.

On SQLite there is one instance (bot/cluster/single.py refuses a second): it leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from bot.cluster.membership import Membership
from bot.config import ClusterSettings
from storage.db import LEADER_LOCK_KEY, create_engine

log = logging.getLogger(__name__)
Work = Callable[[asyncio.Event], Awaitable[None]]  # runs until its event (the term) is set
# The server drops a silent leader's session (and lock) after idle + interval x count s.
KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class Leadership:
    def __init__(self, engine: AsyncEngine, member: Membership, settings: ClusterSettings) -> None:
        self._url = engine.url
        self._shared = engine.url.get_backend_name() == "postgresql"
        self._member = member
        self._settings = settings
        self.terms = 0  # how many times this instance became the leader
        # A previous holder checks its connection within two heartbeats (with timeout).
        self.takeover_grace = 2 * settings.heartbeat_seconds + 1.0 if self._shared else 0.0

    async def run(self, stop: asyncio.Event, work: Work) -> None:
        """Lead whenever this instance can, until `stop`; `work`'s failure is raised."""
        if not self._shared:
            await self._lead(None, stop, work)
            return
        # NullPool: closing the connection really closes it, so the lock cannot linger in
        # a pool after a step-down.
        engine = create_engine(self._url, poolclass=NullPool)
        try:
            while not stop.is_set():
                connection = await self._acquire(engine, stop)
                if connection is None:
                    return
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.takeover_grace)
                    if stop.is_set():
                        return
                    await self._lead(connection, stop, work)
                finally:
                    with contextlib.suppress(DBAPIError, OSError):
                        await connection.close()  # the server drops the lock with the session
        finally:
            await engine.dispose()

    async def _acquire(self, engine: AsyncEngine, stop: asyncio.Event) -> AsyncConnection | None:
        """The connection holding the lock, or None once `stop` is set."""
        connection: AsyncConnection | None = None
        while not stop.is_set():
            try:
                if connection is None:
                    connection = await engine.connect()
                    # No transaction held open for the term: the lock is the session's.
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    for name, value in KEEPALIVES.items():
                        await connection.execute(text(f"SET {name} = {int(value)}"))
                held = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
                )
                if held:
                    return connection
            except (DBAPIError, OSError) as exc:
                log.warning("cannot try for leadership: %s", exc)
                if connection is not None:
                    with contextlib.suppress(DBAPIError, OSError):
                        await connection.invalidate()
                    connection = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.leader_retry_seconds)
        if connection is not None:
            with contextlib.suppress(DBAPIError, OSError):
                await connection.close()
        return None

    async def _lead(
        self, connection: AsyncConnection | None, stop: asyncio.Event, work: Work
    ) -> None:
        member, term = self._member, asyncio.Event()
        member.leader = True
        self.terms += 1
        try:
            await member.flag_leader()
        except (DBAPIError, OSError) as exc:  # only a display: the heartbeat writes it again
            log.warning("cannot flag the leader: %s", exc)
        log.info("instance %s leads (term %d)", member.id, self.terms)
        working = asyncio.create_task(work(term), name="leader-work")
        watchers = [asyncio.create_task(stop.wait(), name="leader-stop")]
        if connection is not None:
            watchers.append(asyncio.create_task(self._watch(connection), name="leader-watch"))
        try:
            await asyncio.wait([working, *watchers], return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set() and not working.done():
                log.warning("instance %s lost its leadership connection; stepping down", member.id)
            term.set()
            await working  # work's own failure is raised from here
        finally:
            term.set()
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            if not working.done():
                working.cancel()
                await asyncio.gather(working, return_exceptions=True)
            member.leader = False
            log.info("instance %s no longer leads", member.id)

    async def _watch(self, connection: AsyncConnection) -> None:
        """Return once the connection holding the lock stops answering."""
        every = self._settings.heartbeat_seconds
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=every + 1)
            except (DBAPIError, OSError, TimeoutError) as exc:
                log.warning("leadership connection check failed: %r", exc)
                return
