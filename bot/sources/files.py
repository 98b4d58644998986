"""Bounded, non-blocking reads of briefing files, shared by the folder source and `ingest`.

Only regular files are read: a FIFO would block the reader forever, a device
(`/dev/zero`) never ends, a socket cannot be opened; a symlink is judged by its
target, so a link to any of those (or to a directory, or a loop) is skipped too.
The check is repeated on the open descriptor (opened with O_NONBLOCK, which never
waits for a FIFO writer) so a file swapped in after the check cannot block, and
no more than `limit + 1` bytes are ever read, whatever the file claims its size is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

DEFAULT_MAX_BYTES = 2_000_000  # = IngestSettings.max_file_bytes' default
SIZE_SETTING = "ingest.max_file_bytes"
_CHUNK = 1 << 16


class Skipped(OSError):
    """Not a regular file: never read, reported as a warning (not a failure)."""


class TooLarge(OSError):
    """Larger than the configured cap: refused before (or while) reading it."""


def human_size(size: int) -> str:
    """`2 MB`, `3.1 MB`, `512 kB`, `900 bytes` (decimal units, as the setting is written)."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def too_large(size: int | None, limit: int) -> TooLarge:
    """The refusal in the user's terms: how big, the limit, and the setting that raises it."""
    what = f"is {human_size(size)}" if size is not None else "is"
    return TooLarge(f"file {what}, larger than the {human_size(limit)} limit ({SIZE_SETTING})")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _check_regular(mode: int, path: Path) -> None:
    if not stat.S_ISREG(mode):
        link = " (through a symlink)" if path.is_symlink() else ""
        raise Skipped(f"skipped: {_kind(mode)}{link}, not a briefing file")


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`; Skipped / TooLarge / OSError otherwise."""
    try:
        _check_regular(os.stat(path).st_mode, path)  # follows symlinks: judges the target
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Skipped("skipped: a symlink loop, not a briefing file") from None
        raise
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, path)  # swapped for a FIFO or device after the check?
        if info.st_size > limit:
            raise too_large(info.st_size, limit)
        return _read_at_most(fd, limit)
    finally:
        os.close(fd)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit + 1  # one byte more tells "grew past the cap" from "exactly the cap"
    while remaining > 0:
        chunk = os.read(fd, min(_CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise too_large(None, limit)
    return data


def read_document(path: Path, limit: int) -> tuple[str, bytes | OSError]:
    """(name, content) for a source: a file that cannot be read yields its error."""
    try:
        return str(path), read_capped(path, limit)
    except OSError as exc:
        return str(path), exc
