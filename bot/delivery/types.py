"""The contract between the delivery engine and platform senders.

A sender states its shape (`shape`, default "single") and classifies every failure into
one of the errors below, so the engine's policy (retry, pause, deactivate) is
platform-neutral. Anything else a sender raises is treated like `Transient`.

* "single" (`Sender`): ONE stored message to ONE chat per call (Telegram, console).
* "batch" (`BatchSender`): one message to up to `batch_size` chats per call, for the
  deliveries that share a rendering and a checkpoint (WeCom members); chats it does not
  batch (`batchable`) go one at a time, and chats where a repeat would show twice
  (`at_most_once`: WeCom robots) are sent at most once (engine.py explains how).
* "campaign" (`bot.delivery.campaigns.CampaignSender`): an issue's deliveries on the
  platform reached together by a few audience-wide sends (Official Account tag mass sends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# A rendered message as stored at publication (formatters.Message as a dict: text, format,
# size, unit, disable_preview) and handed to a sender unchanged.
StoredMessage = Mapping[str, Any]


class SendError(Exception):
    """Base of classified send failures; `str()` is stored as the delivery's last error."""


class RetryAfter(SendError):
    """Flood control: every sender of the platform pauses `seconds`, then retries."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds}s")
        self.seconds = seconds


class ChatGone(SendError):
    """Blocked, deactivated, kicked, chat not found: deactivate the subscriber, drop the rest."""


class ChatMigrated(SendError):
    """The chat has a new id (Telegram group -> supergroup): update it and retry."""

    def __init__(self, new_chat_id: str, detail: str = "") -> None:
        super().__init__(detail or f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Transient(SendError):
    """Timeout, 5xx, network error: retry with exponential backoff up to a limit."""


class MaybeSent(Transient):
    """The request left but no answer came back (timeout, dropped connection): the message
    may have arrived. For an `at_most_once` chat the engine does not send it again."""


class Permanent(SendError):
    """The message itself was refused (e.g. malformed): mark the delivery failed."""


class Sender(Protocol):
    platform: str

    def chat_kind(self, chat_id: str) -> str:
        """'private' | 'group' | 'channel' | 'user': selects the per-chat rate limit
        ('private' and 'user' get the private limit, the others the group limit)."""
        ...

    async def send(self, chat_id: str, message: StoredMessage) -> str | None:
        """Send one stored message ({text, format, size, unit, disable_preview}) or raise.

        Return only once the platform accepted the message: the engine records it as
        sent right after, and never sends it again unless the process dies first. Return
        the platform's id of the sent message when it has one (Telegram): the engine
        stores it with the checkpoint so a later correction can edit the message.
        A message carrying `edit_message_id` (a correction; only made for platforms
        that can edit) replaces that message's text instead; already-equal text is done.
        """
        ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    delivered: tuple[str, ...]
    gone: tuple[str, ...]  # chats the platform says it cannot reach (any more)


class Windows(Protocol):
    """A sender's own send windows (e.g. WeCom's 30 a minute per member), shared with the
    sender's replies; the engine takes them for every chat of a call before the call."""

    async def acquire(self, keys: Sequence[str]) -> float:
        """Wait until every key may send once more, then count one send each."""
        ...


class BatchSender(Protocol):
    platform: str
    shape: str  # "batch"
    batch_size: int  # chats per call at most
    windows: Windows | None  # taken by the engine before each call (None: no windows)

    def chat_kind(self, chat_id: str) -> str: ...

    def batchable(self, chat_id: str) -> bool:
        """False: the chat is sent to alone (`send`), e.g. a WeCom group robot."""
        ...

    def at_most_once(self, chat_id: str) -> bool:
        """A repeated message would be shown twice (no platform duplicate check): the
        engine records it as sent before the call and never repeats it."""
        ...

    async def send_batch(self, chat_ids: Sequence[str], message: StoredMessage) -> BatchResult:
        """One message to every chat (at most `batch_size`), windows already taken.
        Repeats after a crash must be harmless (the platform's duplicate check)."""
        ...

    async def send(self, chat_id: str, message: StoredMessage) -> str | None:
        """One message to one chat, windows already taken (robots, corrections)."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryAlert:
    """Told to admins when an issue's delivery is paused by an error burst.

    Shaped like `bot.publish.alerts.Alert` (text, issue) so its notifiers accept it.
    """

    text: str
    issue_id: int
    platform: str
    errors: int
    issue: None = None  # no preview: the issue itself is fine


class AlertSink(Protocol):
    """Where the engine's alerts go (the publication's Notifier satisfies it)."""

    async def alert(self, alert: DeliveryAlert) -> None:
        """Deliver to every admin; must not raise."""
        ...
