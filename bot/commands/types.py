"""Value objects shared by the command core and the platform adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from formatters import Message

ChatKind = Literal["private", "group", "channel", "user"]
CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit; WeChat has no buttons


@dataclass(frozen=True, slots=True)
class Chat:
    platform: str  # telegram | wechat | wecom | console
    chat_id: str
    kind: ChatKind = "private"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One user action as the adapter saw it."""

    chat: Chat
    user_id: str
    text: str = ""  # command text; for a button press, the callback data
    language_code: str | None = None  # the platform's hint (Telegram's language_code)
    is_admin: bool = False  # the adapter decides from config (user ids)


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
            raise ValueError(f"callback data over {CALLBACK_DATA_MAX_BYTES} bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Reply:
    """Messages to send in order; `buttons` (rows) go on the last message.

    `edit` asks the adapter to replace the message the button was on (toggles),
    falling back to a new message where the platform cannot edit. `images` (PNG bytes,
    e.g. /stats charts) follow the messages where the platform sends pictures; others
    leave them out.
    """

    messages: tuple[Message, ...]
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    edit: bool = False
    images: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Invocation:
    """A parsed command: `/subscribe@briefbot papers chips` -> subscribe, (papers, chips)."""

    name: str
    args: tuple[str, ...] = ()
    raw_args: str = ""
    mentioned: bool = False  # addressed as /cmd@ourbot (groups: answer even unknown commands)
