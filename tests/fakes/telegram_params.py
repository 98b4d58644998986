"""Reading Bot API parameters the way Telegram does: query string, form fields or JSON body.

python-telegram-bot posts `application/x-www-form-urlencoded` (multipart/form-data only
when uploading files) with every non-string value JSON-encoded, so numbers, booleans and
objects arrive as strings here; a JSON body arrives typed. Both are accepted.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.telegram_errors import bad_request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    if request.body_exists:
        values.update(await _read_body(request))
    return Params(values)


async def _read_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON encoded request body") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON object expected as request body")
        return body
    if request.content_type in FORM_TYPES:
        form = await request.post()
        return {key: _upload(value) for key, value in form.items()}
    return {}


MAX_UPLOAD = 10 * 1024 * 1024  # Telegram's limit for a photo


def _upload(value: Any) -> Any:
    """A form field's text, or an uploaded file's bytes (sendPhoto), capped like Telegram."""
    if isinstance(value, str):
        return value
    data = value.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise bad_request("file is too big")
    return bytes(data)


class Params:
    """Typed access to one request's parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.values.get(name)
        try:
            return float(value) if value not in (None, "") else default
        except (TypeError, ValueError):
            return default

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, error: str) -> Any:
        """A JSON-typed field (objects, arrays), from a form string or a JSON body."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(error) from exc

    def chat_id(self) -> str:
        """The raw chat_id (an integer or "@username"); absent → Telegram's refusal."""
        value = self.text("chat_id")
        if not value:
            raise bad_request("chat_id is empty")
        return value.strip()
