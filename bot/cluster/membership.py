"""This process as one of the instances sharing the database (storage/instances.py).

An id random per start (a restarted process recognises nothing as its own: the claims
of its past life wait for that life's heartbeat to lapse, like anyone else's), a
heartbeat every `heartbeat_seconds`, and at each beat the requeue of deliveries claimed
by instances silent for `stale_seconds`, by whichever instance beats first. So the work
of a dead instance is pending again at most `stale_seconds + heartbeat_seconds` after
its last heartbeat, and at once it is being sent: the composition root hands
`on_requeue` the engine's wake (bot/app.py), so no idle poll is waited out.

One-shot drains (`tick --deliver`, `publish --deliver`) are instances too, for their
short life (`short_lived`): their claims are judged by the same heartbeat, so a killed
drain's work is resent within seconds by a running instance (or the next drain), not
after a minute, and its rows can never be taken from it while it lives, however long
one send takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ClusterSettings
from storage import instances
from storage.instances import Identity

log = logging.getLogger(__name__)
FORGET_AFTER = 300.0  # seconds a dead instance stays listed by `briefbot status`


def new_identity() -> Identity:
    return Identity(secrets.token_hex(16), socket.gethostname()[:255], os.getpid())


class Membership:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: ClusterSettings,
        identity: Identity | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.identity = identity or new_identity()
        self.leader = False  # set by Leadership; written with every heartbeat
        self.live = 1  # instances alive at the last heartbeat, this one included
        self.on_live: Callable[[int], None] | None = None  # told `live` after each beat
        # Called after a beat handed claims of dead instances back to pending: whoever
        # sends them starts at once (the 15 s resume bound has no room for a poll).
        self.on_requeue: Callable[[], None] | None = None
        self.requeued = 0  # deliveries of dead instances this one handed back to pending
        self._joined = False

    @property
    def id(self) -> str:
        return self.identity.id

    async def join(self) -> None:
        """Register, and hand back at once what dead instances left claimed."""
        await self.beat()

    async def beat(self) -> None:
        settings = self._settings
        async with self._sessions.begin() as session:
            known = await instances.heartbeat(session, self.identity, leader=self.leader)
        # Committed apart: waiting on a row another instance is requeuing too must not
        # delay this instance's own proof of life.
        async with self._sessions.begin() as session:
            requeued = await instances.requeue_orphaned(session, settings.stale_seconds)
            await instances.forget_dead(session, max(FORGET_AFTER, 6 * settings.stale_seconds))
            self.live = max(1, await instances.live_count(session, settings.stale_seconds))
        if self.on_live is not None:
            self.on_live(self.live)
        if not known and self._joined:  # others took this instance for dead meanwhile
            log.warning("instance %s was silent too long; its deliveries were handed over", self.id)
        self._joined = True
        if requeued:
            log.warning("requeued %d delivery(ies) claimed by a dead instance", requeued)
            self.requeued += requeued
            if self.on_requeue is not None:
                self.on_requeue()

    async def flag_leader(self) -> None:
        """Show this instance as the leader in the instances table (for `status`)."""
        async with self._sessions.begin() as session:
            await instances.heartbeat(session, self.identity, leader=True)
            await instances.claim_leader_flag(session, self.id)

    async def run(self) -> None:
        """Heartbeat until cancelled; a failed beat is retried at the next one."""
        while True:
            await asyncio.sleep(self._settings.heartbeat_seconds)
            try:
                await self.beat()
            except (DBAPIError, OSError) as exc:
                log.warning("instance heartbeat failed: %s", exc)

    async def leave(self) -> None:
        """A clean stop: hand back every delivery still claimed, and leave the table."""
        with contextlib.suppress(DBAPIError, OSError):
            async with self._sessions.begin() as session:
                handed = await instances.deregister(session, self.id)
            if handed:
                log.info("handed %d claimed delivery(ies) back at stop", handed)


@contextlib.asynccontextmanager
async def short_lived(
    sessions: async_sessionmaker[AsyncSession], settings: ClusterSettings
) -> AsyncIterator[Membership]:
    """This process as an instance for the block: joined, heartbeating, and gone at the
    end (claims still held handed back). Whoever claims inside stamps `member.id`."""
    member = Membership(sessions, settings)
    await member.join()
    heartbeat = asyncio.create_task(member.run(), name="instance-heartbeat")
    try:
        yield member
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
        await member.leave()
