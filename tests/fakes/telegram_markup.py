"""Checking reply_markup the way the Bot API does, inline keyboards in particular."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.fakes.telegram_errors import ApiError, bad_request
from tests.fakes.telegram_params import Params

MAX_CALLBACK_DATA_BYTES = 64
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
URL_SCHEMES = ("http", "https", "tg")


def read_reply_markup(params: Params) -> dict[str, Any] | None:
    markup = params.json("reply_markup", "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup")
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def check_inline_keyboard(rows: Any) -> None:
    _check_rows(rows, "inline_keyboard", "InlineKeyboardMarkup")
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_rows(rows: Any, field: str, owner: str) -> None:
    def is_rows(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(row, list) for row in value)

    if not is_rows(rows):
        raise bad_request(f'field "{field}" of the {owner} should be an Array of Arrays')


def _button_error(reason: str) -> ApiError:
    return bad_request(f"can't parse inline keyboard button: {reason}")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise _button_error('Field "text" must be of type String')
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        _check_button_url(button["url"])


def _check_button_url(url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme.lower() not in URL_SCHEMES or not parts.netloc:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every button of an inline keyboard, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def read_link_preview(params: Params) -> dict[str, Any] | None:
    options = params.json("link_preview_options", "can't parse link preview options JSON object")
    if options is not None and not isinstance(options, dict):
        raise bad_request("can't parse link preview options JSON object")
    if options is None and params.boolean("disable_web_page_preview"):
        options = {"is_disabled": True}
    return options
