"""Bot API methods about the bot itself: getMe, updates, webhook and command menus."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.telegram_errors import bad_request, chat_not_found, conflict
from tests.fakes.telegram_params import Params
from tests.fakes.telegram_state import BotApiState

COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
LANGUAGE_CODE = re.compile(r"[a-z]{2}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (80, 88, 443, 8443)
SCOPES_WITH_CHAT = ("chat", "chat_administrators", "chat_member")
SCOPES = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)


async def get_me(state: BotApiState, params: Params) -> dict[str, Any]:
    return {
        **state.bot.to_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(state: BotApiState, params: Params) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    allowed = params.json("allowed_updates", "can't parse allowed_updates JSON array")
    return await state.updates.get_updates(
        offset=params.integer("offset"),
        limit=params.integer("limit") or 100,
        timeout=params.number("timeout"),
        allowed=allowed if isinstance(allowed, list) else None,
    )


def scope_key(scope: Any) -> str:
    """A canonical key for a BotCommandScope; chat-specific scopes name their chat."""
    scope = scope or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES + SCOPES_WITH_CHAT:
        raise bad_request("can't parse BotCommandScope JSON object")
    key: dict[str, Any] = {"type": scope["type"]}
    if scope["type"] in SCOPES_WITH_CHAT:
        if scope.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        key["chat_id"] = _scope_chat_id(scope["chat_id"])
    if scope["type"] == "chat_member":
        key["user_id"] = int(scope.get("user_id") or 0)
    return json.dumps(key, sort_keys=True)


def _menu_key(params: Params) -> tuple[str, str]:
    scope = params.json("scope", "can't parse BotCommandScope JSON object")
    code = params.text("language_code") or ""
    if code and not LANGUAGE_CODE.fullmatch(code):
        raise bad_request("invalid language code specified")
    return scope_key(scope), code


def _scope_chat_id(value: Any) -> int | str:
    text = str(value)
    if text.startswith("@"):
        return text
    try:
        return int(text)
    except ValueError as exc:
        raise chat_not_found() from exc


def _check_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name, description = item.get("command"), item.get("description")
        if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": name, "description": description})
    return checked


async def set_my_commands(state: BotApiState, params: Params) -> bool:
    commands = _check_commands(params.json("commands", "can't parse commands JSON object"))
    key = _menu_key(params)
    if commands:
        state.commands[key] = commands
    else:
        state.commands.pop(key, None)
    state.notify()
    return True


async def get_my_commands(state: BotApiState, params: Params) -> list[dict[str, str]]:
    return list(state.commands.get(_menu_key(params), []))


async def delete_my_commands(state: BotApiState, params: Params) -> bool:
    state.commands.pop(_menu_key(params), None)
    state.notify()
    return True


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (parts.port or 443) not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


async def set_webhook(state: BotApiState, params: Params) -> bool:
    url = (params.text("url") or "").strip()
    if params.boolean("drop_pending_updates"):
        state.updates.drop_all()
    if not url:
        state.webhook = None
        return True
    _check_webhook_url(url)
    secret = params.text("secret_token")
    if secret and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    allowed = params.json("allowed_updates", "can't parse allowed_updates JSON array")
    state.webhook = {
        "url": url,
        "max_connections": params.integer("max_connections") or 40,
        "allowed_updates": allowed if isinstance(allowed, list) else None,
        "secret_token": secret,
        "ip_address": params.text("ip_address"),
    }
    state.notify()
    return True


async def delete_webhook(state: BotApiState, params: Params) -> bool:
    state.webhook = None
    if params.boolean("drop_pending_updates"):
        state.updates.drop_all()
    state.notify()
    return True


async def get_webhook_info(state: BotApiState, params: Params) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates.pending),
    }
    hook = state.webhook
    if hook is not None:
        info["url"] = hook["url"]
        info["max_connections"] = hook["max_connections"]
        if hook["allowed_updates"] is not None:
            info["allowed_updates"] = hook["allowed_updates"]
        if hook["ip_address"]:
            info["ip_address"] = hook["ip_address"]
    return info


async def close_bot(state: BotApiState, params: Params) -> bool:
    return True
