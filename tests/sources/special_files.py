"""Files a folder source or `ingest` must never block on or read without end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

# name -> what it is; every one ends in .md so the folder glob offers it
SPECIAL = {
    "fifo.md": "a FIFO (named pipe)",
    "socket.md": "a socket",
    "zero.md": "a character device",  # symlink to /dev/zero: endless
    "to-fifo.md": "a FIFO (named pipe)",  # symlink to the FIFO
    "loop.md": "a symlink loop",
    "folder.md": "a directory",  # symlink to a directory
}


@contextlib.contextmanager
def special_files(folder: Path) -> Iterator[list[Path]]:
    """Create the SPECIAL files in `folder`; the socket is listening while in use."""
    os.mkfifo(folder / "fifo.md")
    (folder / "zero.md").symlink_to("/dev/zero")
    (folder / "to-fifo.md").symlink_to(folder / "fifo.md")
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "sub").mkdir()
    (folder / "folder.md").symlink_to(folder / "sub")
    server = socket.socket(socket.AF_UNIX)
    here = Path.cwd()
    os.chdir(folder)  # a relative bind: AF_UNIX paths are limited to ~108 bytes
    try:
        server.bind("socket.md")
        server.listen()
    finally:
        os.chdir(here)
    try:
        yield [folder / name for name in SPECIAL]
    finally:
        server.close()
        _release_fifo_readers(folder / "fifo.md")


def _release_fifo_readers(fifo: Path) -> None:
    """If a (buggy) reader is blocked opening the FIFO, let it go so the suite can exit."""
    with contextlib.suppress(OSError):  # ENXIO: nobody is waiting, as it should be
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body blocks longer than `seconds`."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still blocked after {seconds}s: a special file was opened")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
