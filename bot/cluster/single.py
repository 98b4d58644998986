"""SQLite serves one `briefbot run`: a second one on the same file refuses to start.

Two processes would each lead (each its own scheduler and Telegram poller) and SQLite
cannot tell them apart: so `run` holds an exclusive `flock` on a file beside the
database for its whole life. The kernel drops it when the process dies, however it
dies, so a crash never leaves a stale lock behind. PostgreSQL needs none: instances
coordinate there (bot/cluster/leader.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from storage.db import sqlite_path

try:
    import fcntl
except ImportError:  # not POSIX: no lock, as before
    fcntl = None  # type: ignore[assignment]


class AlreadyRunning(Exception):
    """Another `briefbot run` holds the database (one line, for the operator)."""


@contextlib.contextmanager
def single_instance(url: str) -> Iterator[None]:
    """Hold the run lock of a SQLite database (nothing for PostgreSQL or in-memory)."""
    path = sqlite_path(url)
    if path is None or fcntl is None:
        yield
        return
    lock = path.with_name(path.name + ".run-lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise AlreadyRunning(
                f"another `briefbot run` (pid {holder}) is using {path}; SQLite serves one "
                "instance: stop that one, or use PostgreSQL to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)
