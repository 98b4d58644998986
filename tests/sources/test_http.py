"""HTTP source against a local aiohttp server: ETag / Last-Modified, errors, garbage."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import Settings, SourceSettings
from bot.sources.base import SourceError
from bot.sources.http import HttpSource
from bot.sources.poller import SourcePoller, build_pollers
from tests.publish.helpers import briefing, make_runtime, summary_of, utc


@dataclass
class Site:
    """Served files; `etags=False` answers with Last-Modified only."""

    files: dict[str, bytes] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    etags: bool = True
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    bodies_sent: int = 0
    base: str = ""

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.requests.append((path, dict(request.headers)))
        if path in self.status:
            return web.Response(status=self.status[path], text="oops")
        if path not in self.files:
            raise web.HTTPNotFound()
        body = self.files[path]
        tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = f"Mon, 02 Nov 2026 00:{len(body) % 60:02d}:00 GMT"
        if self.etags:
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304)
            headers = {"ETag": tag}
        else:
            if request.headers.get("If-Modified-Since") == modified:
                return web.Response(status=304)
            headers = {"Last-Modified": modified}
        self.bodies_sent += 1
        return web.Response(body=body, headers=headers, content_type="text/markdown")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    app = web.Application()
    app.router.add_get("/{path:.*}", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    served.base = f"http://127.0.0.1:{port}"
    yield served
    await runner.cleanup()


def _poller(engine: AsyncEngine, site: Site, paths: list[str]) -> SourcePoller:
    source = SourceSettings(kind="http", name="web", urls=[site.url(p) for p in paths])
    runtime = make_runtime(engine, Settings(sources=[source]))
    (poller,) = build_pollers(runtime, FixedClock(utc(10, 30)), Path("unused"))
    return poller


async def test_etag_304_means_nothing_is_reingested(engine: AsyncEngine, site: Site) -> None:
    site.files["2026-11-02.md"] = briefing().encode()
    poller = _poller(engine, site, ["2026-11-02.md"])
    first = await poller.poll()
    assert first is not None and first.report is not None and first.report.added == 1
    before = await summary_of(poller._runtime)

    second = await poller.poll()
    assert second is not None and second.ok and second.fetched == 0 and second.report is None
    assert site.requests[-1][1]["If-None-Match"].startswith('"')
    assert site.bodies_sent == 1
    assert (await summary_of(poller._runtime)).updated_at == before.updated_at

    # A new process: validators come from the kv state, still 304.
    again = _poller(engine, site, ["2026-11-02.md"])
    assert (await again.poll()) == second and site.bodies_sent == 1

    site.files["2026-11-02.md"] = briefing(version="v2").encode()
    changed = await again.poll()
    assert changed is not None and changed.report is not None and changed.report.updated == 1
    assert site.bodies_sent == 2


async def test_last_modified_is_sent_back_when_there_is_no_etag(
    engine: AsyncEngine, site: Site
) -> None:
    site.etags = False
    site.files["a.md"] = briefing().encode()
    poller = _poller(engine, site, ["a.md"])
    await poller.poll()
    result = await poller.poll()
    assert result is not None and result.fetched == 0
    assert "If-Modified-Since" in site.requests[-1][1]
    assert site.bodies_sent == 1


async def test_errors_and_garbage_are_reported_and_garbage_is_fetched_again(
    engine: AsyncEngine, site: Site
) -> None:
    site.files["good.md"] = briefing().encode()
    site.files["garbage.md"] = b"<html><body>rate limited</body></html>"
    site.status["down.md"] = 503
    poller = _poller(engine, site, ["good.md", "garbage.md", "down.md"])
    result = await poller.poll()
    assert result is not None and result.ok and result.report is not None
    assert result.report.added == 1 and result.report.failed == 2
    failures = {f.path.rsplit("/", 1)[1]: f.message for f in result.report.failures}
    assert failures["down.md"] == "cannot read: HTTP 503 Service Unavailable"
    assert "not a briefing" in failures["garbage.md"]

    assert (await poller.poll()) is not None  # garbage keeps no validators: requested plainly
    garbage_requests = [h for p, h in site.requests if p == "garbage.md"]
    assert len(garbage_requests) == 2 and "If-None-Match" not in garbage_requests[1]
    good_requests = [h for p, h in site.requests if p == "good.md"]
    assert "If-None-Match" in good_requests[1]


async def test_all_urls_down_is_a_failed_poll_with_backoff(engine: AsyncEngine, site: Site) -> None:
    site.status["a.md"] = 500
    poller = _poller(engine, site, ["a.md", "missing.md"])
    result = await poller.poll()
    assert result is not None and not result.ok
    assert result.error is not None and "HTTP 500" in result.error and "HTTP 404" in result.error
    assert poller.failures == 1 and poller.retry_at is not None


async def test_connection_refused_is_a_source_error(engine: AsyncEngine) -> None:
    runtime = make_runtime(engine, Settings())
    source = HttpSource("x", ["http://127.0.0.1:9/none.md"], runtime.sessions, timeout=5)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:9/none\.md"):
        await source.fetch()
