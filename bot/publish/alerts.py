"""Alerts to admins (e.g. an issue held as unfinished), through a `Notifier` the runtime supplies.

Alerts do not use delivery rows: a delivery is unique per (issue, subscriber), so an
alert row for an admin who is also a subscriber would block that admin's real push.

Language: admins are configured by chat id, with no language of their own, so a
notifier speaks its renderer's language: the bot's notifiers (Telegram admins, the
terminal chat) are built with Chinese labels, the series' language; the CLI's with
English, as the rest of its output. An `Alert` carries both texts and the taxonomy that
names the preview's sections; other alerts (the delivery engine's) are one text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from bot.delivery.types import Sender
from bot.publish.rendering import stored
from bot.redaction import redact
from briefings.model import Issue
from briefings.taxonomy import Taxonomy
from formatters import EN, ConsoleRenderer, Message, Renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Alert:
    text: str  # plain text in Chinese: what happened and what an admin can do
    issue: Issue | None = None  # previewed after the text when given
    english: str = ""  # the same in English; "": `text` serves every language
    taxonomy: Taxonomy | None = None  # names the preview's sections in English

    def in_language(self, lang: str) -> tuple[str, Issue | None]:
        """(text, issue to preview) for a notifier speaking `lang`."""
        if lang != "en":
            return self.text, self.issue
        issue = self.issue
        if issue is not None and self.taxonomy is not None:
            issue = self.taxonomy.localized(issue, lang)
        return self.english or self.text, issue


class AlertLike(Protocol):
    """Any alert with a text and maybe an issue to preview (also the delivery engine's)."""

    @property
    def text(self) -> str: ...

    @property
    def issue(self) -> Issue | None: ...


class Notifier(Protocol):
    async def alert(self, alert: AlertLike) -> None:
        """Deliver to every admin chat; must not raise for a chat that fails."""
        ...


def language_of(renderer: Renderer) -> str:
    return "en" if renderer.labels == EN else "zh"


def alert_messages(renderer: Renderer, alert: AlertLike) -> list[Message]:
    """The alert text, then a preview of the issue (header, 导读, sections with counts),
    in the renderer's language."""
    text, issue = alert.text, alert.issue
    if isinstance(alert, Alert):
        text, issue = alert.in_language(language_of(renderer))
    messages = renderer.service(redact(text))  # admins get no token in an error
    if issue is not None:
        messages += renderer.overview(issue)
    return messages


class LogNotifier:
    async def alert(self, alert: AlertLike) -> None:
        text = alert.in_language("en")[0] if isinstance(alert, Alert) else alert.text
        log.warning("admin alert: %s", redact(text))  # logs are English


class RecordingNotifier:
    """Keeps the alerts (tests; a status page)."""

    def __init__(self) -> None:
        self.alerts: list[AlertLike] = []

    async def alert(self, alert: AlertLike) -> None:
        self.alerts.append(alert)


class StreamNotifier:
    """Prints alerts with a plain-text preview (the CLI and the console chat)."""

    def __init__(self, stream: TextIO, renderer: Renderer | None = None) -> None:
        self._stream = stream
        self._renderer = renderer or ConsoleRenderer()

    async def alert(self, alert: AlertLike) -> None:
        for message in alert_messages(self._renderer, alert):
            self._stream.write(message.text + "\n")
        self._stream.flush()


class SenderNotifier:
    """Sends alerts to admin chats through a platform `Sender` (Telegram: chat id = user id)."""

    def __init__(self, sender: Sender, chat_ids: Iterable[str | int], renderer: Renderer) -> None:
        self._sender = sender
        self._chat_ids = [str(c) for c in chat_ids]
        self._renderer = renderer

    async def alert(self, alert: AlertLike) -> None:
        messages = stored(alert_messages(self._renderer, alert))
        for chat_id in self._chat_ids:
            try:
                for message in messages:
                    await self._sender.send(chat_id, message)
            except Exception:  # one unreachable admin must not stop the others
                log.exception("alert to %s:%s failed", self._sender.platform, chat_id)


class FanoutNotifier:
    def __init__(self, notifiers: Sequence[Notifier] = ()) -> None:
        self._notifiers = list(notifiers)

    def add(self, notifier: Notifier) -> None:
        """Late binding: admin chats are reachable only once their platform has started."""
        self._notifiers.append(notifier)

    async def alert(self, alert: AlertLike) -> None:
        for notifier in self._notifiers:
            try:
                await notifier.alert(alert)
            except Exception:
                log.exception("notifier %r failed", notifier)
