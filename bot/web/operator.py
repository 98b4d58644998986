"""The operator page: delivery and subscriber charts, for admins only.

It exists only when `[web] admin_token` is set (otherwise its paths are 404, like any
unknown page): never open by default. The token is accepted as `Authorization: Bearer
<token>` or as the password of HTTP basic auth (any user name), so a browser can log in
with its own prompt and then load the chart images with the same credentials. Anything
else is a 401 with a basic-auth challenge. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import WebSettings
from bot.web.charts import CHART_NAMES, chart_data, draw
from storage.subscribers import stats
from storage.web_queries import deliveries_per_issue

HERE = Path(__file__).parent
REALM = 'Basic realm="briefbot operator", charset="UTF-8"'
PRIVATE = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given = decoded.partition(":")[2]
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def operator_routes(
    sessions: async_sessionmaker[AsyncSession], web: WebSettings
) -> list[BaseRoute]:
    """The operator routes, or none when no admin token is configured."""
    token = web.admin_token.get_secret_value() if web.admin_token is not None else ""
    if not token:
        return []
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
    )

    def refuse() -> Response:
        headers = {**PRIVATE, "WWW-Authenticate": REALM}
        return PlainTextResponse("credentials required", status_code=401, headers=headers)

    async def page(request: Request) -> Response:
        if not authorized(request, token):
            return refuse()
        async with sessions() as session:
            counts = await stats(session)
            issues = await deliveries_per_issue(session)
        body = env.get_template("operator.html").render(
            charts=CHART_NAMES, subscribers=counts, issues=issues
        )
        return HTMLResponse(body, headers=PRIVATE)

    async def chart(request: Request) -> Response:
        if not authorized(request, token):
            return refuse()
        name = request.path_params["name"]
        if name not in CHART_NAMES:
            return PlainTextResponse("no such chart", status_code=404, headers=PRIVATE)
        async with sessions() as session:
            data = await chart_data(session)
        png = await run_in_threadpool(draw, name, data)
        return Response(png, media_type="image/png", headers=PRIVATE)

    return [
        Route("/operator", page, methods=["GET"]),
        Route("/operator/chart/{name}.png", chart, methods=["GET"]),
    ]
