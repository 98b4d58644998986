"""The engine's single database writer, with group commit of send checkpoints.

Every worker hands its checkpoint to this task and waits for the acknowledgement
before it sends that chat's next message (and before it frees its sending slot).
Checkpoints that arrive while a transaction runs are written together by the next
one, so the commit rate adapts to the send rate and the database is never the
bottleneck, yet no accepted message is ever left unrecorded once its worker moves on.
Other writes (claims, heartbeats, deactivations) go through the same task, in order,
so the engine never contends with itself for SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.ratelimit import Sleep
from storage.deliveries.writes import Checkpoint, Progress, record_progress

log = logging.getLogger(__name__)
T = TypeVar("T")
Wall = Callable[[], datetime]
WRITE_RETRIES = 3  # a failed transaction is retried, then its waiters get the error


class ClaimLost(Exception):
    """Another process re-claimed (or someone deleted) the delivery: stop working on it."""


@dataclass(slots=True)
class _Checkpoint:
    checkpoint: Checkpoint
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _Call:
    op: Callable[[AsyncSession], Awaitable[Any]]
    done: asyncio.Future[Any]


_STOP = object()


class CommitQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wall: Wall,
        sleep: Sleep,
        max_batch: int = 1000,
    ) -> None:
        self._sessions = sessions
        self._wall = wall
        self._sleep = sleep
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._session: AsyncSession | None = None
        self.commits = 0
        self.checkpoints = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="delivery-writer")

    async def close(self) -> None:
        """Write everything queued so far, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(_STOP)
        await self._task
        self._task = None

    def abort(self) -> asyncio.Task[None] | None:
        """Stop now, writing nothing more (the process is dying: engine.py `_kill`);
        the cancelled task, to be awaited."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    async def checkpoint(self, progress: Progress, attempts: int, kind: str = "delivery") -> None:
        """Record progress made under the claim `attempts` of a delivery (or, `kind`
        'correction', of a correction); returns once committed."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Checkpoint(Checkpoint(progress, attempts, kind), done))
        if not await done:
            raise ClaimLost(f"{kind} {progress.delivery_id} was claimed elsewhere")

    async def call(self, op: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `op(session)` in its own transaction, in queue order; returns its result."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Call(op, done))
        return await done

    async def _run(self) -> None:
        # One session (one connection) for the writer's life: no pool checkout and reset
        # per transaction, which on aiosqlite is two thread round trips per commit.
        async with self._sessions() as session:
            self._session = session
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self._max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                stopping = any(item is _STOP for item in batch)
                await self._write([item for item in batch if item is not _STOP])
                if stopping and self._queue.empty():
                    return

    async def _write(self, batch: list[Any]) -> None:
        checkpoints: list[_Checkpoint] = []
        for item in batch:
            if isinstance(item, _Checkpoint):
                checkpoints.append(item)
                continue
            await self._write_checkpoints(checkpoints)  # keep queue order around calls
            checkpoints = []
            await self._write_call(item)
        await self._write_checkpoints(checkpoints)

    async def _write_checkpoints(self, items: list[_Checkpoint]) -> None:
        if not items:
            return

        async def op(session: AsyncSession) -> set[tuple[str, int]]:
            now = self._wall()
            return await record_progress(session, [i.checkpoint for i in items], now)

        try:
            lost = await self._transaction(op)
        except Exception as exc:
            for item in items:
                _fail(item.done, exc)
            return
        self.checkpoints += len(items)
        for item in items:
            if not item.done.done():
                claim = (item.checkpoint.kind, item.checkpoint.progress.delivery_id)
                item.done.set_result(claim not in lost)

    async def _write_call(self, item: _Call) -> None:
        try:
            result = await self._transaction(item.op)
        except Exception as exc:
            _fail(item.done, exc)
            return
        finally:
            if self._session is not None:
                self._session.expunge_all()  # ORM rows an op loaded: keep memory flat
        if not item.done.done():
            item.done.set_result(result)

    async def _transaction(self, op: Callable[[AsyncSession], Awaitable[T]]) -> T:
        session = self._session
        assert session is not None
        for attempt in range(1, WRITE_RETRIES + 1):
            try:
                result = await op(session)
                await session.commit()
                self.commits += 1
                return result
            except Exception:
                with contextlib.suppress(Exception):  # a dead connection is replaced on next use
                    await session.rollback()
                if attempt == WRITE_RETRIES:
                    raise
                log.warning("delivery write failed (attempt %d), retrying", attempt, exc_info=True)
                await self._sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")


def _fail(future: asyncio.Future[Any], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
