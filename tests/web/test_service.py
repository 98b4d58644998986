"""`run`'s web service with only `[web] public_url` set: it listens, and serves the pages,
the feeds and the health check side by side over a real socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.runtime import open_runtime
from bot.web.service import open_web_service
from tests.web.conftest import fill, web_settings
from tests.web.live import free_port


async def test_public_url_alone_serves_the_site(tmp_path: Path) -> None:
    port = free_port()
    settings = web_settings(tmp_path, public_url="https://brief.example.org", port=port)
    async with open_runtime(settings) as runtime:
        await fill(runtime, hostile=False)
        stop = asyncio.Event()
        # no chat platform is configured: the service builds no adapter and needs no core
        async with open_web_service(runtime, core=None) as web:  # type: ignore[arg-type]
            assert web.serve_http and web.loops == []
            running = asyncio.create_task(web.run(stop))
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:
                for _ in range(200):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                home = await client.get("/")
                issue = await client.get("/embedded-ai/2026-11-02")
                feed = await client.get("/embedded-ai/feed.atom")
                operator = await client.get("/operator")
            stop.set()
            await asyncio.wait_for(running, 10)
    assert home.status_code == 200 and "嵌入式AI简报 (2026-11-16)" in home.text
    assert issue.status_code == 200 and "骁龙新旗舰平台发布" in issue.text
    assert (
        '<link rel="alternate" type="text/html" href="https://brief.example.org/embedded-ai"/>'
        in (feed.text)
    )
    assert operator.status_code == 404  # no admin_token: no operator page
