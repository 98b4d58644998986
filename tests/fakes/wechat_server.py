"""Local stand-in for api.weixin.qq.com (公众号) and qyapi.weixin.qq.com (企业微信).

Two aiohttp apps on 127.0.0.1, one port each, because the real APIs live on different
hosts: point a client's base URL at `mp_base_url` or `wecom_base_url` and it appends
`/cgi-bin/...` as usual. The apps run on their own event loop in a daemon thread, so
both synchronous callers (wechatpy) and async tests can use them without deadlock.

    server = FakeWeChatServer().start()
    server.mp.add_follower("openid-1")            # opens a 48 h 客服 window
    server.clock.advance(49 * 3600)               # ...and closes it
    server.mp.faults.inject("/cgi-bin/message/custom/send", errcode=40001)
    server.mp.sent("custom"), server.wecom.dropped, server.mp.calls("/cgi-bin/token")
    server.stop()

Standalone: `python -m tests.fakes.wechat_server --port 8082` (WeCom on port + 1; `--port 0`
picks free ports, printed on the first lines). Standalone, the clock is the wall clock, so
tokens, rate windows and duplicate checks age in real time; `--help` lists the limits that
can be set. Another process reads what the server accepted at `GET <base>/_fake/messages`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
from types import TracebackType

from aiohttp import web

from tests.fakes.wechat_core import FakeClock, WallClock
from tests.fakes.wechat_http import Dispatcher, FakeApi, build_app
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET, MpConfig, OfficialAccountFake
from tests.fakes.wechat_work import (
    DEFAULT_AGENTID,
    DEFAULT_CORPID,
    DEFAULT_CORPSECRET,
    DEFAULT_ROBOT_KEY,
    WecomConfig,
    WeComFake,
)


class FakeWeChatServer:
    def __init__(
        self,
        mp_config: MpConfig | None = None,
        wecom_config: WecomConfig | None = None,
        *,
        clock: FakeClock | None = None,
        host: str = "127.0.0.1",
        mp_port: int = 0,
        wecom_port: int = 0,
        latency: float = 0.0,
    ) -> None:
        """`latency`: seconds every API call waits before it is handled (slow networks)."""
        self.clock = clock or FakeClock()
        self.mp = OfficialAccountFake(self.clock, mp_config)
        self.wecom = WeComFake(self.clock, wecom_config)
        self._host = host
        self._ports = {"mp": mp_port, "wecom": wecom_port}
        self._latency = latency
        self._urls: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._dispatchers: list[Dispatcher] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def mp_base_url(self) -> str:
        return self._urls["mp"]

    @property
    def wecom_base_url(self) -> str:
        return self._urls["wecom"]

    def robot_url(self, key: str = DEFAULT_ROBOT_KEY) -> str:
        return f"{self.wecom_base_url}/cgi-bin/webhook/send?key={key}"

    def start(self) -> FakeWeChatServer:
        self._thread = threading.Thread(target=self._run, name="fake-wechat", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("fake WeChat server failed to start") from self._error
        if not self._urls:
            raise RuntimeError("fake WeChat server did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def release_hangs(self) -> None:
        """Let every request held by a `hang` fault continue now."""
        if self._loop is None:
            return
        for dispatcher in self._dispatchers:
            self._loop.call_soon_threadsafe(dispatcher.release_hangs)

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # surfaced to start()
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runners = [await self._listen(name, api) for name, api in self._apis()]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for dispatcher in self._dispatchers:
                dispatcher.release_hangs()
            for runner in runners:
                await runner.cleanup()

    def _apis(self) -> list[tuple[str, FakeApi]]:
        return [("mp", self.mp), ("wecom", self.wecom)]

    async def _listen(self, name: str, api: FakeApi) -> web.AppRunner:
        app, dispatcher = build_app(api, self._latency)
        self._dispatchers.append(dispatcher)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._ports[name])
        await site.start()
        host, port = runner.addresses[0][:2]
        self._urls[name] = f"http://{host}:{port}"
        return runner


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082, help="Official Account port")
    parser.add_argument("--wecom-port", type=int, help="WeCom port (default: --port + 1)")
    parser.add_argument("--follower", action="append", default=[], help="openid to pre-add")
    parser.add_argument("--member", action="append", default=[], help="WeCom userid to pre-add")
    parser.add_argument("--robot", action="append", default=[], help="extra robot webhook key")
    parser.add_argument("--mass-quota", type=int, help="mass sends a day (default 1)")
    parser.add_argument("--member-per-minute", type=int, help="WeCom messages a member a minute")
    parser.add_argument("--member-per-hour", type=int, help="WeCom messages a member an hour")
    parser.add_argument("--robot-per-minute", type=int, help="robot webhook calls a minute")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    return parser.parse_args(argv)


def _configs(args: argparse.Namespace) -> tuple[MpConfig, WecomConfig]:
    mp, wecom = MpConfig(), WecomConfig()
    if args.mass_quota is not None:
        mp.mass_daily_quota = args.mass_quota
    for name in ("member_per_minute", "member_per_hour", "robot_per_minute"):
        if getattr(args, name) is not None:
            setattr(wecom, name, getattr(args, name))
    wecom.robot_keys.update(args.robot)
    return mp, wecom


def _banner(server: FakeWeChatServer) -> list[str]:
    mp_auth = f"appid={DEFAULT_APPID} secret={DEFAULT_SECRET}"
    wecom_auth = f"corpid={DEFAULT_CORPID} secret={DEFAULT_CORPSECRET} agentid={DEFAULT_AGENTID}"
    return [
        f"official account base URL: {server.mp_base_url}  {mp_auth}",
        f"wecom base URL: {server.wecom_base_url}  {wecom_auth}",
        f"wecom robot URL: {server.robot_url()}",
    ]


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    wecom_port = args.wecom_port if args.wecom_port is not None else (args.port and args.port + 1)
    mp, wecom = _configs(args)
    server = FakeWeChatServer(
        mp,
        wecom,
        clock=WallClock(),
        host=args.host,
        mp_port=args.port,
        wecom_port=wecom_port,
        latency=args.latency,
    )
    with server:
        for openid in args.follower:
            server.mp.add_follower(openid)
        server.wecom.add_members(*args.member)
        print("\n".join(_banner(server)), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
