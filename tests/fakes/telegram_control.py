"""HTTP controls for the standalone fake server (/_fake/...), for manual trials.

Lets a person play the user while a real bot process talks to the fake:
    curl -d chat_id=42 -d text=/start http://127.0.0.1:8081/_fake/message
    curl http://127.0.0.1:8081/_fake/messages?chat_id=42
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.telegram_server import FakeTelegramServer


def control_routes(server: FakeTelegramServer) -> list[web.RouteDef]:
    async def read(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        return {**request.query, **(await request.post())}

    def reply(result: Any) -> web.Response:
        return web.Response(text=json.dumps(result, default=str), content_type="application/json")

    async def messages(request: web.Request) -> web.Response:
        chat_id = request.query.get("chat_id")
        found = server.messages_in(int(chat_id)) if chat_id else server.messages
        return reply([_public(dataclasses.asdict(m)) for m in found])

    async def calls(request: web.Request) -> web.Response:
        return reply([dataclasses.asdict(c) for c in server.calls])

    async def message(request: web.Request) -> web.Response:
        body = await read(request)
        chat_id = int(body["chat_id"])
        user_id = int(body["user_id"]) if body.get("user_id") else None
        language = body.get("language_code", "en")
        return reply(server.inject_message(chat_id, body["text"], user_id=user_id,
                                           language_code=language))  # fmt: skip

    async def channel_post(request: web.Request) -> web.Response:
        body = await read(request)
        return reply(server.inject_channel_post(int(body["chat_id"]), body["text"]))

    async def press(request: web.Request) -> web.Response:
        body = await read(request)
        query_id = server.press_button(
            int(body["chat_id"]), int(body["message_id"]),
            data=body.get("data"), text=body.get("text"),
        )  # fmt: skip
        return reply({"callback_query_id": query_id})

    async def chat_status(request: web.Request) -> web.Response:
        body = await read(request)
        chat = server.set_chat_status(int(body["chat_id"]), body["status"])
        return reply({"chat_id": chat.id, "status": chat.status})

    return [
        web.get("/_fake/messages", messages),
        web.get("/_fake/calls", calls),
        web.post("/_fake/message", message),
        web.post("/_fake/channel_post", channel_post),
        web.post("/_fake/press", press),
        web.post("/_fake/chat_status", chat_status),
    ]


def _public(message: dict[str, Any]) -> dict[str, Any]:
    message.pop("json", None)
    return message
