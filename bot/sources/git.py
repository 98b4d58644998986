"""A git repository (URL + branch + path glob), mirrored with the `git` command.

The repository is cloned once into a cache directory under the data directory;
each poll runs `git fetch` and resets the checkout to origin/<branch> (so force
pushes are followed). Change detection uses the blob ids of `git ls-tree`: only
files whose blob changed since the last successful ingestion are read. Those ids
are kept in the shared kv state, so a restart does not re-parse the repository.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
import shutil
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sources.base import Document, SourceError
from bot.sources.files import DEFAULT_MAX_BYTES, read_document, too_large
from storage.state import get_value, set_value

log = logging.getLogger(__name__)

GIT_TIMEOUT_SECONDS = 300.0
_GLOB_CHARS = frozenset("*?[")


def normalize_glob(pattern: str) -> str:
    """`dir/` or `dir` -> `dir/*.md`; empty -> every `*.md` in the repository."""
    pattern = pattern.strip().lstrip("/").removeprefix("./")
    if not pattern:
        return "**/*.md"
    if pattern.endswith("/"):
        return pattern + "*.md"
    if not _GLOB_CHARS.intersection(pattern) and not pattern.endswith(".md"):
        return pattern + "/*.md"
    return pattern


def path_matches(pattern: str, path: str) -> bool:
    """Glob match by `/`-separated segments; `**` matches any number of segments."""
    return _match(pattern.split("/"), path.split("/"))


def _match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _match(rest, parts[1:])


async def run_git(*args: str, timeout: float = GIT_TIMEOUT_SECONDS) -> bytes:
    """Run `git args...`; its stdout, or SourceError with git's own message."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}  # never wait for a password
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        raise SourceError(f"cannot run git: {exc}") from exc
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        command = args[2] if args[0] == "-C" else args[0]
        raise SourceError(f"git {command} timed out after {timeout:.0f}s") from None
    if process.returncode != 0:
        command = args[2] if args[0] == "-C" else args[0]
        message = " ".join(err.decode(errors="replace").split())
        raise SourceError(f"git {command} failed: {message[-500:]}")
    return out


class GitSource:
    def __init__(
        self,
        name: str,
        url: str,
        branch: str,
        pattern: str,
        checkout: Path,
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: int = 300,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.url = url
        self.branch = branch
        self.pattern = normalize_glob(pattern)
        self.checkout = checkout
        self.interval_seconds = interval_seconds
        self._sessions = sessions
        self._tree: dict[str, str] = {}  # path -> blob id at the last fetch
        self._sizes: dict[str, int] = {}  # path -> blob size at the last fetch
        self._known: dict[str, str] = {}  # path -> blob id in the archive

    @property
    def state_key(self) -> str:
        return f"source:{self.name}:git-blobs"

    async def fetch(self) -> list[Document]:
        await self._sync()
        self._tree = await self._matching_blobs()
        async with self._sessions() as session:
            self._known = dict(await get_value(session, self.state_key, {}) or {})
        changed = [path for path, blob in self._tree.items() if self._known.get(path) != blob]
        return await asyncio.to_thread(self._read, changed)

    def holds(self, name: str) -> bool | None:
        """Whether the last fetch's tree has `name` (None: not a path of this source), so
        ingest can tell a renamed file from a second file claiming the same issue."""
        return name in self._tree if path_matches(self.pattern, name) else None

    async def commit(self, ingested: Collection[str]) -> None:
        known = {p: b for p, b in self._known.items() if p in self._tree}  # forget deleted files
        known.update({p: self._tree[p] for p in ingested if p in self._tree})
        if known != self._known:
            async with self._sessions.begin() as session:
                await set_value(session, self.state_key, known)
            self._known = known

    async def _sync(self) -> None:
        if not await self._is_our_clone():
            await self._clone()
            return
        refspec = f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}"
        await self._git("fetch", "--quiet", "--prune", "--no-tags", "origin", refspec)
        await self._git("reset", "--quiet", "--hard", f"refs/remotes/origin/{self.branch}")

    async def _is_our_clone(self) -> bool:
        if not (self.checkout / ".git").exists():
            return False
        try:
            origin = await self._git("remote", "get-url", "origin")
        except SourceError:
            return False
        return origin.decode().strip() == self.url

    async def _clone(self) -> None:
        if self.checkout.exists():  # a broken or foreign checkout: start over
            await asyncio.to_thread(shutil.rmtree, self.checkout)
        self.checkout.parent.mkdir(parents=True, exist_ok=True)
        log.info("cloning %s (%s) into %s", self.url, self.branch, self.checkout)
        await run_git(
            "clone",
            "--quiet",
            "--no-tags",
            "--single-branch",
            "--branch",
            self.branch,
            "--",
            self.url,
            str(self.checkout),
        )

    async def _matching_blobs(self) -> dict[str, str]:
        listing = await self._git("ls-tree", "-r", "-z", "-l", "--full-tree", "HEAD")
        blobs: dict[str, str] = {}
        self._sizes = {}
        for record in listing.decode("utf-8", errors="surrogateescape").split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, blob, size = meta.split()
            # symlinks could point outside the checkout; submodules are not files
            if kind == "blob" and mode != "120000" and path_matches(self.pattern, path):
                blobs[path] = blob
                self._sizes[path] = int(size)
        return dict(sorted(blobs.items()))

    def _read(self, paths: list[str]) -> list[Document]:
        documents: list[Document] = []
        for path in paths:
            size = self._sizes.get(path, 0)
            if size > self.max_bytes:  # the blob's size is known: refuse it unread
                documents.append((path, too_large(size, self.max_bytes)))
            else:
                documents.append((path, read_document(self.checkout / path, self.max_bytes)[1]))
        return documents

    async def _git(self, *args: str) -> bytes:
        return await run_git("-C", str(self.checkout), *args)
