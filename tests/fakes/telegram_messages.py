"""Messages in the fake server's chats: what was accepted, and the text rules applied."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_entities import HtmlParseError, parse_html, strip_formatted, utf16_len
from tests.fakes.telegram_errors import bad_request

MAX_TEXT_UTF16 = 4096
HtmlValidator = Callable[[str], list[str]]
PROJECT_VALIDATOR = "tests.formatters.telegram_html"


def telegram_only(text: str) -> list[str]:
    """No rules beyond Telegram's own HTML parser."""
    return []


def default_html_validator() -> HtmlValidator:
    """The project's own HTML checker (stricter than Telegram) when it is present."""
    try:
        from tests.formatters.telegram_html import validate_telegram_html
    except ModuleNotFoundError as exc:
        if exc.name not in ("tests.formatters", PROJECT_VALIDATOR):
            raise
        return telegram_only
    return validate_telegram_html


@dataclass(frozen=True)
class RenderedText:
    text: str  # what the recipient sees
    entities: list[dict[str, Any]]


def render_text(raw: str | None, parse_mode: str | None, validator: HtmlValidator) -> RenderedText:
    """Apply parse_mode like Telegram: its parser, then empty/too long; then the stricter
    project rules, whose first problem is reported as "can't parse entities: <problem>"."""
    mode = (parse_mode or "").strip().lower()
    if raw is None or raw == "":
        raise bad_request("message text is empty")
    if mode == "html":
        try:
            text, entities = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("", "markdown", "markdownv2"):
        text, entities = raw, []  # Markdown is passed through unchecked: briefbot sends HTML
    else:
        raise bad_request("unsupported parse_mode")
    text, entities = strip_formatted(text, entities)
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_UTF16:
        raise bad_request("message is too long")
    problems = validator(raw) if mode == "html" else []
    if problems:
        raise bad_request(f"can't parse entities: {problems[0]}")
    return RenderedText(text, entities)


@dataclass
class StoredMessage:
    """One message in a chat. `text` is what the bot sent (HTML source for parse_mode=HTML)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    visible_text: str
    entities: list[dict[str, Any]]
    time: float = field(default_factory=time.time)
    outgoing: bool = True
    link_preview_options: dict[str, Any] | None = None
    message_thread_id: int | None = None
    deleted: bool = False
    # Earlier versions, oldest first, each {"text", "parse_mode", "reply_markup", "time"}.
    edits: list[dict[str, Any]] = field(default_factory=list)
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def date(self) -> int:
        return int(self.time)

    def content_key(self) -> tuple[Any, ...]:
        return (self.visible_text, self.entities, self.reply_markup)

    def snapshot(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "time": self.time,
        }


class MessageLog:
    """Every message by chat and id, plus the bot's accepted sends in order."""

    def __init__(self) -> None:
        self.sent: list[StoredMessage] = []
        self._by_key: dict[tuple[int, int], StoredMessage] = {}

    def add(self, message: StoredMessage) -> None:
        self._by_key[(message.chat_id, message.message_id)] = message
        if message.outgoing:
            self.sent.append(message)

    def get(self, chat_id: int, message_id: int | None) -> StoredMessage | None:
        if message_id is None:
            return None
        message = self._by_key.get((chat_id, message_id))
        return None if message is None or message.deleted else message

    def sent_to(self, chat_id: int) -> list[StoredMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]
