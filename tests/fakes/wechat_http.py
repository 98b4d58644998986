"""aiohttp glue shared by the fake hosts: dispatch, faults, logging, error bodies.

Besides the API, each host answers `GET /_fake/messages` and `GET /_fake/requests`
(JSON lists of what it accepted and answered) for tests that run the server in another
process; these control calls are not logged as requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.wechat_core import (
    ApiError,
    FakeClock,
    Fault,
    FaultInjector,
    RequestRecord,
    SentMessage,
)

_NOT_JSON = object()


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    query: Mapping[str, str]
    body: Any  # parsed JSON; None when empty; _NOT_JSON when unparsable

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise ApiError(47001, "data format error")
        return self.body


Handler = Callable[[ApiCall], dict[str, Any]]


class FakeApi:
    """One fake host: its routes plus the lock, clock, faults and logs tests inspect."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.faults = FaultInjector()
        self.requests: list[RequestRecord] = []
        self.messages: list[SentMessage] = []

    def routes(self) -> dict[tuple[str, str], Handler]:
        raise NotImplementedError

    def word_error(self, errcode: int, errmsg: str) -> str:
        """The host's errmsg suffix (request id / hint) appended to the bare message."""
        return errmsg

    def calls(self, path: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path == path]

    def sent(self, channel: str | None = None) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.messages if channel is None or m.channel == channel]

    def record(
        self, channel: str, msgtype: str, content: str, targets: tuple[str, ...], **meta: Any
    ) -> SentMessage:
        message = SentMessage(channel, msgtype, content, targets, self.clock.now(), meta)
        self.messages.append(message)
        return message

    def error_body(self, error: ApiError) -> dict[str, Any]:
        return {
            "errcode": error.errcode,
            "errmsg": self.word_error(error.errcode, error.errmsg),
            **error.extra,
        }


class Dispatcher:
    """The single aiohttp handler of a fake host; `latency` seconds before each API answer."""

    def __init__(self, api: FakeApi, latency: float = 0.0) -> None:
        self._api = api
        self._latency = latency
        self._routes = api.routes()
        self._methods: dict[str, set[str]] = {}
        for method, path in self._routes:
            self._methods.setdefault(path, set()).add(method)
        self._release = asyncio.Event()

    def release_hangs(self) -> None:
        """Wake every hanging request; must run on the server's loop."""
        self._release.set()
        self._release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request.path[len(CONTROL_PREFIX) :])
        call = ApiCall(
            request.method, request.path, dict(request.query), _parse(await request.read())
        )
        if self._latency:
            await asyncio.sleep(self._latency)
        fault = self._api.faults.take(call.path)
        if fault is not None and fault.hang:
            await self._hang(fault.hang)
        if fault is not None and fault.http_status:
            self._log(call, fault.http_status, None)
            return web.Response(
                status=fault.http_status, text=f"{fault.http_status} fault injected"
            )
        if fault is not None and fault.errcode is not None:
            return self._answer(call, self._api.error_body(_fault_error(fault)))
        return self._answer(call, self._handle(call))

    def _control(self, name: str) -> web.Response:
        with self._api.lock:
            if name == "messages":
                rows = [dataclasses.asdict(m) for m in self._api.messages]
            elif name == "requests":
                rows = [dataclasses.asdict(r) for r in self._api.requests]
            else:
                return web.Response(status=404, text="unknown control call")
        return web.json_response(rows, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    async def _hang(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), seconds)

    def _handle(self, call: ApiCall) -> dict[str, Any] | None:
        handler = self._routes.get((call.method, call.path))
        try:
            if handler is None:
                return self._no_route(call)
            with self._api.lock:
                return handler(call)
        except ApiError as error:
            return self._api.error_body(error)

    def _no_route(self, call: ApiCall) -> None:
        allowed = self._methods.get(call.path)
        if allowed is None:
            return None
        if "POST" in allowed:
            raise ApiError(43002, "require POST method")
        raise ApiError(43001, "require GET method")

    def _answer(self, call: ApiCall, body: dict[str, Any] | None) -> web.Response:
        if body is None:
            self._log(call, 404, None)
            return web.Response(status=404, text="404 Not Found")
        self._log(call, 200, body.get("errcode"))
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(text=text, content_type="application/json", charset="utf-8")

    def _log(self, call: ApiCall, status: int, errcode: int | None) -> None:
        body = None if call.body is _NOT_JSON else call.body
        record = RequestRecord(call.method, call.path, dict(call.query), body, status, errcode)
        with self._api.lock:
            self._api.requests.append(record)


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _NOT_JSON


def _fault_error(fault: Fault) -> ApiError:
    assert fault.errcode is not None
    return ApiError(
        fault.errcode, fault.errmsg or KNOWN_ERRMSGS.get(fault.errcode, "fault injected")
    )


# Bare errmsg of the codes tests inject most; the host appends its own suffix.
KNOWN_ERRMSGS: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
}


CONTROL_PREFIX = "/_fake/"


def build_app(api: FakeApi, latency: float = 0.0) -> tuple[web.Application, Dispatcher]:
    dispatcher = Dispatcher(api, latency)
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", dispatcher.handle)
    return app, dispatcher
