"""The `briefbot run` processes sharing one database: registration, heartbeats, the leader
flag, and the return of deliveries whose claiming instance stopped heartbeating.

Every liveness comparison is made against the database's clock (PostgreSQL's `now()`),
never the instance's own, so instances whose clocks disagree still agree on who is alive.
SQLite serves one host only, so there the process's clock is the database's.

The `leader` flag is a display for `briefbot status`: leadership itself is PostgreSQL's
advisory lock (bot/cluster/leader.py). A flag whose heartbeat is stale means nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import dialect_name
from storage.clock import utcnow
from storage.models import CorrectionRow, DeliveryRow, InstanceRow


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this process is: a random id per start, and where it runs."""

    id: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_age: float  # seconds, on the database's clock
    leader: bool  # flagged leader with a live heartbeat
    alive: bool


async def database_now(session: AsyncSession) -> datetime:
    """The database server's current time (aware UTC)."""
    if dialect_name(session) == "postgresql":
        value = await session.scalar(text("SELECT now()"))
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    return utcnow()


async def heartbeat(session: AsyncSession, me: Identity, *, leader: bool) -> bool:
    """Stamp this instance alive now (registering it if needed); False when its row was
    gone, i.e. others presumed it dead and may already have re-claimed its deliveries."""
    now = await database_now(session)
    result = await session.execute(
        update(InstanceRow)
        .where(InstanceRow.id == me.id)
        .values(heartbeat_at=now, leader=leader)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)):
        return True
    session.add(
        InstanceRow(
            id=me.id, host=me.host, pid=me.pid, started_at=now, heartbeat_at=now, leader=leader
        )
    )
    await session.flush()
    return False


async def claim_leader_flag(session: AsyncSession, instance_id: str) -> None:
    """Flag this instance as the leader and no other (a dead leader's flag included)."""
    await session.execute(
        update(InstanceRow)
        .values(leader=InstanceRow.id == instance_id)
        .execution_options(synchronize_session=False)
    )


async def requeue_orphaned(session: AsyncSession, stale_after: float) -> int:
    """Return to pending every delivery left 'sending' by an instance whose heartbeat is
    older than `stale_after` seconds or whose row is gone. Their `attempts` stay, so a
    presumed-dead instance that wakes up cannot record progress over the next claim."""
    now = await database_now(session)
    live = select(InstanceRow.id).where(
        InstanceRow.heartbeat_at >= now - timedelta(seconds=stale_after)
    )
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.status == "sending",
            DeliveryRow.claimed_by.is_not(None),
            DeliveryRow.claimed_by.not_in(live),
        )
        .values(status="pending", claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    fixes = await session.execute(  # corrections follow the deliveries' claim protocol
        update(CorrectionRow)
        .where(
            CorrectionRow.status == "sending",
            CorrectionRow.claimed_by.is_not(None),
            CorrectionRow.claimed_by.not_in(live),
        )
        .values(status="pending", claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0)) + int(getattr(fixes, "rowcount", 0))


async def forget_dead(session: AsyncSession, dead_for: float) -> int:
    """Delete instance rows silent for `dead_for` seconds (kept until then for `status`)."""
    now = await database_now(session)
    result = await session.execute(
        delete(InstanceRow)
        .where(InstanceRow.heartbeat_at < now - timedelta(seconds=dead_for))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def deregister(session: AsyncSession, instance_id: str) -> int:
    """A clean stop: hand back what this instance still has 'sending' and remove its row.
    Returns the number of deliveries handed back."""
    now = await database_now(session)
    result = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.status == "sending", DeliveryRow.claimed_by == instance_id)
        .values(status="pending", claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(InstanceRow)
        .where(InstanceRow.id == instance_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def is_alive(session: AsyncSession, instance_id: str, stale_after: float) -> bool:
    """Whether the instance has heartbeated within `stale_after` seconds."""
    now = await database_now(session)
    found = await session.scalar(
        select(InstanceRow.id).where(
            InstanceRow.id == instance_id,
            InstanceRow.heartbeat_at >= now - timedelta(seconds=stale_after),
        )
    )
    return found is not None


async def live_count(session: AsyncSession, stale_after: float) -> int:
    """How many instances have heartbeated within `stale_after` seconds."""
    now = await database_now(session)
    rows = await session.scalars(
        select(InstanceRow.id).where(
            InstanceRow.heartbeat_at >= now - timedelta(seconds=stale_after)
        )
    )
    return len(rows.all())


async def list_instances(session: AsyncSession, stale_after: float) -> list[InstanceStatus]:
    """Every instance row, oldest start first, with heartbeat ages on the database's clock."""
    now = await database_now(session)
    rows = await session.scalars(select(InstanceRow).order_by(InstanceRow.started_at))
    found = []
    for row in rows:
        age = max(0.0, (now - row.heartbeat_at).total_seconds())
        alive = age <= stale_after
        found.append(
            InstanceStatus(
                id=row.id,
                host=row.host,
                pid=row.pid,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
                heartbeat_age=age,
                leader=row.leader and alive,
                alive=alive,
            )
        )
    return found
