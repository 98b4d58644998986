"""Webhook mode: setWebhook at start, updates POSTed to the Starlette route."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.platforms.telegram.webhook import WEBHOOK_PATH, webhook_route
from tests.bot.telegram.conftest import HarnessFactory
from tests.bot.telegram.harness import Harness

URL = "https://bot.example.com/telegram/webhook"
SECRET = "s3cret_Token-1"
USER = 8118


def client(harness: Harness) -> httpx.AsyncClient:
    app = Starlette(routes=[webhook_route(harness.platform)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


async def post(harness: Harness, update: Any, secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    async with client(harness) as http:
        response = await http.post(WEBHOOK_PATH, content=body, headers=headers)
    await harness.platform.application.update_queue.join()  # answered, if it was taken
    return response.status_code


async def test_webhook_takes_updates_with_the_right_secret_only(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(telegram={"webhook_url": URL, "webhook_secret": SECRET})
    hook = harness.server.webhook
    assert hook is not None and hook["url"] == URL and hook["secret_token"] == SECRET
    assert hook["allowed_updates"] == ["message", "callback_query"]
    assert harness.platform.webhook_mode

    update = harness.server.inject_message(USER, "/latest", language_code="zh")
    assert await post(harness, update, "wrong") == 403
    assert await post(harness, update, None) == 403
    assert await post(harness, b"{not json", SECRET) == 400
    assert await post(harness, [1, 2], SECRET) == 400
    assert harness.server.messages_in(USER) == []

    assert await post(harness, update, SECRET) == 200
    [overview] = harness.server.messages_in(USER)
    assert overview.visible_text.startswith("嵌入式AI简报 (2026-11-16)")

    query_id = harness.server.press_button(USER, overview.message_id, text="论文 (3)")
    [press] = harness.server.pending_updates[-1:]
    assert await post(harness, press, SECRET) == 200
    assert harness.server.callback_answer(query_id) is not None
    assert "BiViT-Edge" in harness.server.messages_in(USER)[-1].visible_text
    assert harness.server.calls_to("getUpdates") == []  # Telegram pushes; nobody polls


async def test_without_a_configured_secret_a_random_one_is_registered(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(telegram={"webhook_url": URL})
    hook = harness.server.webhook
    assert hook is not None
    secret = hook["secret_token"]
    assert isinstance(secret, str) and len(secret) >= 32
    update = harness.server.inject_message(USER, "/help", language_code="en")
    assert await post(harness, update, "") == 403
    assert await post(harness, update, secret) == 200
    [reply] = harness.server.messages_in(USER)
    assert reply.visible_text.startswith("Commands with examples:")


async def test_a_polling_bot_refuses_webhook_deliveries(harness: Harness) -> None:
    assert not harness.platform.webhook_mode and harness.server.webhook is None
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start"}}
    assert await post(harness, update, "") == 403
    assert await post(harness, update, "anything") == 403
