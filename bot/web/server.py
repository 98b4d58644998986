"""The one web endpoint: a Starlette app served by uvicorn inside `briefbot run`'s loop.

Routes: `/healthz`, `/wechat/callback` and `/wecom/callback` (GET verification, POST
messages) when those platforms are configured, plus any routes handed in, e.g. the
Telegram webhook route.

    app = create_app(wechat=adapter.endpoint, health={"database": ping_database})
    await serve(app, settings.web, stop_event)

Error bodies name the class of problem and nothing more: `/healthz` says which check is
down, never why; an exception escaping any handler is logged with its traceback and
answered with a fixed 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import WebSettings

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
HealthCheck = Callable[[], Awaitable[object]]  # raises (or times out) when down
HEALTH_TIMEOUT = 5.0  # seconds: a hung dependency is as down as a failing one
WECHAT_PATH = "/wechat/callback"
WECOM_PATH = "/wecom/callback"


def create_app(
    *,
    wechat: Endpoint | None = None,
    wecom: Endpoint | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    health: Mapping[str, HealthCheck] | None = None,
) -> Starlette:
    checks = dict(health or {})

    async def healthz(request: Request) -> Response:
        return await _health(checks)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if wechat is not None:
        routes.append(Route(WECHAT_PATH, wechat, methods=["GET", "POST"]))
    if wecom is not None:
        routes.append(Route(WECOM_PATH, wecom, methods=["GET", "POST"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes, middleware=[Middleware(FixedServerErrors)])


async def _health(checks: Mapping[str, HealthCheck]) -> Response:
    """{"status": "ok", <check>: "ok"}, or 503 "degraded" naming the checks that are down."""
    report = {"status": "ok"}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), HEALTH_TIMEOUT)
            report[name] = "ok"
        except Exception as exc:  # the reason may carry hosts or credentials: log its class
            log.warning("health check %s failed: %s", name, type(exc).__name__)
            report[name] = "unreachable"
            report["status"] = "degraded"
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


class FixedServerErrors:
    """An exception escaping a handler: its traceback to the log, a fixed 500 to the client.

    Starlette's own fallback re-raises after answering, which leaves the server to log it
    again; here the exception ends with this one log record.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unhandled error in a %s handler", scope.get("method", "web"))
            if not started:  # else the client sees the response cut short
                await PlainTextResponse("internal error", status_code=500)(scope, receive, send)


class _QuietServer(uvicorn.Server):
    """No signal capture: `briefbot run` owns SIGINT/SIGTERM and sets the stop event."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Starlette, settings: WebSettings, stop: asyncio.Event) -> None:
    """Serve until `stop` is set (uvicorn's own signal handlers stay off: `run` owns them).

    Raises RuntimeError when the server cannot start (e.g. the port is taken).
    """
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", lifespan="off"
    )
    server = _QuietServer(config)
    serving = asyncio.create_task(_serve(server, settings), name="web")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    log.info("web endpoint on %s:%s stopped", settings.host, settings.port)


async def _serve(server: uvicorn.Server, settings: WebSettings) -> None:
    # uvicorn calls sys.exit() when it cannot bind; a SystemExit inside a task would escape
    # asyncio.run and skip the caller's graceful stop, so it becomes an ordinary error here.
    try:
        await server.serve()
    except SystemExit as exc:
        raise RuntimeError(f"web: cannot listen on {settings.host}:{settings.port}") from exc
