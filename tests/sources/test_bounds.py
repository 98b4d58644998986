"""Sources never hang and never read without bound: special files, oversized bodies and blobs,
placeholders; each is reported (a warning or a failure), and the other documents still ingest."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.config import Settings, SourceSettings
from bot.sources import files
from bot.sources.files import Skipped, TooLarge, human_size, read_capped
from bot.sources.git import GitSource
from bot.sources.http import HttpSource
from bot.sources.poller import SourcePoller, build_pollers
from tests.publish.helpers import KEY, GitRemote, briefing, make_runtime, utc
from tests.sources.special_files import SPECIAL, deadline, special_files

CAP = 4096  # a small ingest.max_file_bytes, so "too large" is cheap to produce


def _folder_poller(engine: AsyncEngine, folder: Path, **ingest: int) -> SourcePoller:
    source = SourceSettings(kind="folder", name="desk", path=str(folder))
    settings = Settings(sources=[source], ingest=ingest or {})
    (poller,) = build_pollers(make_runtime(engine, settings), FixedClock(utc(10, 30)))
    return poller


async def test_special_files_in_a_folder_are_skipped_and_the_rest_ingests(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    (tmp_path / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    poller = _folder_poller(engine, tmp_path)
    with special_files(tmp_path) as paths, deadline(20):
        result = await poller.poll(force=True)
        again = await poller.poll(force=True)
    assert result is not None and result.ok and result.report is not None
    assert (result.report.added, result.report.failed, result.report.skipped) == (1, 0, 6)
    warned = {w.path: w.message for w in result.report.warnings}
    for path, kind in zip(paths, SPECIAL.values(), strict=True):
        assert warned[str(path)].startswith(kind), warned
    assert again is not None and again.ok and again.report is None  # warned once, not every poll


async def test_placeholders_are_warnings_and_the_poll_stays_healthy(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    (tmp_path / "2026-11-09.md").write_text("# 嵌入式AI简报 (2026-11-09)\n", encoding="utf-8")
    (tmp_path / "2026-11-16.md").write_text("", encoding="utf-8")
    poller = _folder_poller(engine, tmp_path)
    only_placeholders = await poller.poll(force=True)
    assert only_placeholders is not None and only_placeholders.ok, only_placeholders
    assert only_placeholders.report is not None
    assert (only_placeholders.report.skipped, only_placeholders.report.failed) == (2, 0)
    assert all("unfinished" in w.message for w in only_placeholders.report.warnings)
    assert (poller.failures, poller.retry_at) == (0, None)  # no backoff for a placeholder

    (tmp_path / "2026-11-09.md").write_text(briefing(KEY.replace(day=9)), encoding="utf-8")
    filled = await poller.poll(force=True)
    assert filled is not None and filled.ok and filled.report is not None
    assert filled.report.added == 1  # the author finished it: archived on the next poll


async def test_an_oversized_file_fails_without_being_read(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    (tmp_path / f"{KEY}.md").write_text(briefing(), encoding="utf-8")
    (tmp_path / "2026-11-09.md").write_bytes(b"x" * 10_000)
    result = await _folder_poller(engine, tmp_path, max_file_bytes=CAP).poll(force=True)
    assert result is not None and result.ok and result.report is not None
    assert (result.report.added, result.report.failed) == (1, 1)
    assert str(result.report.failures[0]).endswith(
        "2026-11-09.md: file is 10 kB, larger than the 4.1 kB limit (ingest.max_file_bytes)"
    )


def test_a_read_never_goes_past_the_cap_whatever_the_size_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that grows after fstat (or a /proc file, size 0) is cut at cap + 1 bytes."""
    path = tmp_path / "growing.md"
    path.write_bytes(b"y" * 1_000_000)
    real_fstat, real_read, got = os.fstat, os.read, []

    def fstat_says_empty(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return os.stat_result((*info[:6], 0, *info[7:]))  # st_size = 0

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        got.append(len(data))
        return data

    monkeypatch.setattr(files.os, "fstat", fstat_says_empty)
    monkeypatch.setattr(files.os, "read", counting_read)
    with pytest.raises(TooLarge, match=r"larger than the 4\.1 kB limit"):
        read_capped(path, CAP)
    assert sum(got) == CAP + 1  # one byte past the cap tells "too large", no more
    assert read_capped(path, 2_000_000) == b"y" * 1_000_000


def test_read_capped_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    with special_files(tmp_path) as paths, deadline(10):
        for path, kind in zip(paths, SPECIAL.values(), strict=True):
            with pytest.raises(Skipped) as caught:
                read_capped(path, CAP)
            assert kind in str(caught.value)


def test_sizes_read_like_the_setting_is_written() -> None:
    assert [human_size(n) for n in (900, 4096, 2_000_000, 3_100_000)] == [
        "900 bytes",
        "4.1 kB",
        "2 MB",
        "3.1 MB",
    ]


# --- HTTP --------------------------------------------------------------------------


@dataclass
class Flood:
    """A server that would send far more than any cap: with or without Content-Length."""

    sent: int = 0
    base: str = ""
    release: asyncio.Event | None = None

    async def declared(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/markdown"})
        response.content_length = 50_000_000  # says 50 MB, then stalls: reading would hang
        await response.prepare(request)
        await response.write(b"x" * 1024)
        self.sent += 1024
        assert self.release is not None
        await self.release.wait()
        return response

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/markdown"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(5_000):  # 80 MB if nobody stops reading
                await response.write(b"z" * 16_384)
                self.sent += 16_384
        except (ConnectionError, RuntimeError):
            pass  # the client hung up at its cap, as it should
        return response


@pytest.fixture
async def flood() -> AsyncIterator[Flood]:
    served = Flood(release=asyncio.Event())
    app = web.Application()
    app.router.add_get("/declared.md", served.declared)
    app.router.add_get("/chunked.md", served.chunked)
    app.router.add_get("/ok.md", _ok)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield served
    assert served.release is not None
    served.release.set()
    await runner.cleanup()


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text=briefing(), content_type="text/markdown")


async def test_http_bodies_over_the_cap_are_refused_promptly(
    flood: Flood, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    urls = [f"{flood.base}/{name}.md" for name in ("declared", "chunked", "ok")]
    source = HttpSource("web", urls, session_factory, timeout=30, max_bytes=100_000)
    documents = dict(await asyncio.wait_for(source.fetch(), 20))
    declared, chunked, ok = (documents[url] for url in urls)
    assert isinstance(declared, TooLarge) and "file is 50 MB, larger than" in str(declared)
    assert isinstance(chunked, TooLarge) and "larger than the 100 kB limit" in str(chunked)
    assert isinstance(ok, bytes) and ok == briefing().encode()
    assert flood.sent < 20_000_000  # the chunked body was not read to its end


async def test_a_body_of_several_chunks_under_the_cap_is_read_whole(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """`StreamReader.read(n)` returns what is buffered: the reader must gather every chunk."""
    body = (
        "# 嵌入式AI简报 (2026-11-02)\n\n## 论文\n\n" + "- [t | s](https://e.com)\n" * 20_000
    ).encode()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 7_000):
            await response.write(body[start : start + 7_000])
            await asyncio.sleep(0)
        return response

    app = web.Application()
    app.router.add_get("/big.md", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/big.md"
        source = HttpSource("web", [url], session_factory, max_bytes=len(body))
        ((_, data),) = await source.fetch()
        assert data == body
    finally:
        await runner.cleanup()


# --- git ---------------------------------------------------------------------------


async def test_git_blobs_over_the_cap_are_refused_unread(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    remote = GitRemote(tmp_path)
    remote.commit({"r/2026-11-02.md": briefing(), "r/2026-11-09.md": "x" * 10_000})
    source = GitSource(
        "repo",
        remote.url,
        "master",
        "r/",
        tmp_path / "cache" / "repo",
        session_factory,
        max_bytes=CAP,
    )
    documents = dict(await source.fetch())
    assert isinstance(documents["r/2026-11-02.md"], bytes)
    big = documents["r/2026-11-09.md"]
    assert isinstance(big, TooLarge) and "file is 10 kB, larger than the 4.1 kB limit" in str(big)
