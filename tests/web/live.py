"""A real HTTP server on the sample archive, in a thread of its own, for a browser to load.

    with LiveSite(tmp_path) as site:      # site.url == "http://127.0.0.1:<port>"
        driver.get(site.url + "/")

Selenium calls block, so the server cannot share the test's event loop: the thread runs
its own loop with the runtime, the archive (the samples plus the hostile issue, and a few
deliveries for the charts) and uvicorn, until the context exits.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from types import TracebackType

import uvicorn

from bot.runtime import open_runtime
from bot.web.operator import operator_routes
from bot.web.pages import site_routes
from bot.web.server import create_app
from tests.web.conftest import fill, web_settings

TOKEN = "operator-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveSite:
    def __init__(self, folder: Path, *, charts_data: bool = True, hostile: bool = True) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.charts_data = charts_data
        self.hostile = hostile
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="live-site", daemon=True)

    def __enter__(self) -> LiveSite:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the live site did not start: {self._error!r}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to __enter__, which raises it in the test
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        settings = web_settings(self.folder, admin_token=TOKEN)
        async with open_runtime(settings) as runtime:
            await fill(runtime, hostile=self.hostile)
            if self.charts_data:
                from tests.web.test_operator import seed_deliveries

                await seed_deliveries(runtime)
            web = runtime.settings.web
            routes = operator_routes(runtime.sessions, web) + site_routes(
                runtime.sessions, runtime.series, runtime.taxonomy, web
            )
            config = uvicorn.Config(
                create_app(extra_routes=routes),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="off",
            )
            self._server = uvicorn.Server(config)
            serving = asyncio.create_task(self._server.serve())
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.02)
            self._ready.set()
            await serving


CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def chromium_paths() -> tuple[str, str] | None:
    """Debian's chromium and chromium-driver, when installed."""
    browser = next((p for p in CHROMIUM if Path(p).exists()), None)
    driver = next((p for p in CHROMEDRIVER if Path(p).exists()), None)
    return (browser, driver) if browser and driver else None


def chromium(width: int, height: int = 900, *, mobile: bool = False):  # type: ignore[no-untyped-def]
    """A headless Chromium at `width` CSS pixels (a phone's device metrics when `mobile`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--hide-scrollbars")
    # a Chinese reader, whatever the machine's locale: pages follow Accept-Language
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    if mobile:
        options.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0}},
        )
    else:
        options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(paths[1]))
    driver.set_page_load_timeout(30)
    return driver
