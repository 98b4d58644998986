"""Bot API error replies, worded the way api.telegram.org words them."""

from __future__ import annotations

import math
from typing import Any


class ApiError(Exception):
    """A refusal: becomes `{"ok": false, "error_code", "description", "parameters"?}`."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def conflict(reason: str) -> ApiError:
    return ApiError(409, f"Conflict: {reason}")


def internal_error() -> ApiError:
    return ApiError(500, "Internal Server Error")


def too_many_requests(wait_seconds: float) -> ApiError:
    # Telegram only ever says whole seconds, and never zero.
    retry_after = max(1, math.ceil(wait_seconds))
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def chat_migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def chat_not_found() -> ApiError:
    return bad_request("chat not found")


def message_not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def query_too_old() -> ApiError:
    return bad_request("query is too old and response timeout expired or query ID is invalid")
