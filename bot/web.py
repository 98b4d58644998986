"""The one web endpoint: a Starlette app served by uvicorn inside `briefbot run`'s loop.

Routes: `/healthz`, `/wechat/callback` and `/wecom/callback` (GET verification, POST
messages) when those platforms are configured, plus any routes handed in, e.g. the
Telegram webhook route.

    app = create_app(wechat=adapter.endpoint, extra_routes=[telegram_route])
    await serve(app, settings.web, stop_event)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings, WebSettings

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
WECHAT_PATH = "/wechat/callback"
WECOM_PATH = "/wecom/callback"


def wechat_configured(settings: Settings) -> bool:
    """Callbacks need the token; API calls (pushes, late replies) need the secret too."""
    return bool(settings.wechat.app_id and settings.wechat.token)


def wecom_configured(settings: Settings) -> bool:
    w = settings.wecom
    return bool(w.corp_id and w.token and w.encoding_aes_key)


def needs_web(settings: Settings) -> bool:
    """Whether `briefbot run` must serve HTTP (any webhook platform configured)."""
    telegram_webhook = bool(settings.telegram.token and settings.telegram.webhook_url)
    return telegram_webhook or wechat_configured(settings) or wecom_configured(settings)


def create_app(
    *,
    wechat: Endpoint | None = None,
    wecom: Endpoint | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    health: HealthCheck | None = None,
) -> Starlette:
    async def healthz(request: Request) -> Response:
        status: dict[str, Any] = {"status": "ok"}
        if health is not None:
            try:
                status |= await health()
            except Exception as exc:
                return JSONResponse({"status": "error", "error": str(exc)}, status_code=503)
        return JSONResponse(status)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if wechat is not None:
        routes.append(Route(WECHAT_PATH, wechat, methods=["GET", "POST"]))
    if wecom is not None:
        routes.append(Route(WECOM_PATH, wecom, methods=["GET", "POST"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes)


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
