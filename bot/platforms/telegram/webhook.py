"""The Telegram webhook as a Starlette route, for the web app that serves WeChat too.

    routes = [..., webhook_route(telegram)]        # telegram: a started TelegramPlatform

Telegram POSTs each update as JSON with the secret given to setWebhook in the
X-Telegram-Bot-Api-Secret-Token header: a wrong or missing secret is 403, a body that
is not an update 400, and 200 once the update is queued (it is processed afterwards, so
a slow command never makes Telegram retry the delivery).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.platforms.telegram.adapter import SECRET_HEADER, TelegramPlatform

WEBHOOK_PATH: Final = "/telegram/webhook"


def webhook_route(platform: TelegramPlatform, path: str = WEBHOOK_PATH) -> Route:
    async def endpoint(request: Request) -> Response:
        secret = request.headers.get(SECRET_HEADER)
        if not platform.webhook_secret_ok(secret):
            return Response(status_code=403)  # refused before reading a stranger's body
        status = await platform.feed_webhook(await request.body(), secret)
        return Response(status_code=status)

    return Route(path, endpoint, methods=["POST"], name="telegram_webhook")
