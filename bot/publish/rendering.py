"""What each subscriber receives of an issue: a rendering key and its messages.

Subscribers sharing platform profile, selection, format and language share one
rendering key; `PublicationRenderings` computes each key's messages once per publication.
An issue is rendered as the command core shows it (`Taxonomy.localized`): an English
reader's push has the taxonomy's English section names, a Chinese one the headings as
written.

Official Account followers are reached by tag mass sends, one per "part" (everything, a
section or a topic: bot/publish/mass.py), so their renderings are per part: each
part with content is rendered once (`part_messages`, one message within the mass-send
limit) and stored under `mass_part_key(part)` (the part named within the issue's
series); a follower's delivery holds the messages of its parts in push order (key
`mass;parts=...`). The campaign sends exactly these stored
part messages.
"""

from __future__ import annotations

import dataclasses
import hashlib

from bot.config import Settings
from bot.delivery.types import StoredMessage
from bot.publish.mass import ALL_PART, desired_parts, part_names, qualified, render_part
from bot.rendering import mass_send_renderer, platform_of, renderer_for, series_language
from briefings.model import Issue
from briefings.taxonomy import Taxonomy
from formatters import Message, Renderer, WeChatRenderer, select_entries
from storage.subscribers import Subscriber

MAX_KEY_LENGTH = 200  # renderings.cache_key is 255 characters
MASS_PLATFORM = "wechat"  # followers reached by tag mass sends
MASS_PART_PREFIX = "mass;part="


def mass_part_key(part: str) -> str:
    """The stored rendering of one mass-send part of an issue (what its tag receives)."""
    return _bounded(MASS_PART_PREFIX + part, MASS_PART_PREFIX)


def profile_of(subscriber: Subscriber) -> str:
    """Renderer variant of the chat: WeCom group robots take larger messages than the app."""
    if subscriber.platform == "wecom" and subscriber.kind == "group":
        return "wecom-robot"
    return subscriber.platform


def selection_of(subscriber: Subscriber) -> tuple[frozenset[str], frozenset[str]] | None:
    """(sections, topics) the subscriber follows; empty sets mean everything; None: nothing."""
    subs = subscriber.subscriptions
    if any(s.kind == "all" for s in subs):
        return frozenset(), frozenset()
    sections = frozenset(s.key for s in subs if s.kind == "section")
    topics = frozenset(s.key for s in subs if s.kind == "topic")
    return (sections, topics) if sections or topics else None


def rendering_key(subscriber: Subscriber) -> str | None:
    """e.g. "telegram;sections=papers;topics=chips;format=full;lang=zh"; None: gets nothing."""
    selection = selection_of(subscriber)
    if selection is None:
        return None
    sections, topics = selection
    parts = [profile_of(subscriber)]
    if sections:
        parts.append(f"sections={','.join(sorted(sections))}")
    if topics:
        parts.append(f"topics={','.join(sorted(topics))}")
    if not sections and not topics:
        parts.append("all")
    parts += [f"format={subscriber.format}", f"lang={subscriber.language}"]
    return _bounded(";".join(parts), parts[0] + ";")


def _bounded(key: str, head: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        return f"{head}sha256={hashlib.sha256(key.encode()).hexdigest()}"
    return key


class RendererSet:
    """The registry's renderers for one process's settings, by (profile, language)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def get(self, profile: str, language: str) -> Renderer:
        return renderer_for(platform_of(profile), profile, language, self._settings)

    def mass(self) -> WeChatRenderer:
        """Official Account mass sends, in the series' language (`mass_language`)."""
        return mass_send_renderer(self._settings)

    @property
    def mass_language(self) -> str:
        return series_language(self._settings)


def render_for(
    renderer: Renderer, issue: Issue, subscriber: Subscriber, taxonomy: Taxonomy
) -> list[Message]:
    """The subscriber's share of the issue in its format and language; [] when nothing
    matches. `renderer` speaks the subscriber's language (`RendererSet.get`)."""
    selection = selection_of(subscriber)
    if selection is None:
        return []
    issue = taxonomy.localized(issue, subscriber.language)
    sections, topics = selection
    everything = not sections and not topics
    if subscriber.format == "digest":
        chosen = issue if everything else select_entries(issue, sections, topics)
        return renderer.digest(chosen) if chosen.sections else []
    if everything:
        return renderer.issue(issue)
    return renderer.for_subscriber(issue, sections=sections, topics=topics)


def stored(messages: list[Message]) -> list[StoredMessage]:
    """Messages as stored in a rendering row and handed to a `Sender`."""
    return [dataclasses.asdict(m) for m in messages]


class PublicationRenderings:
    """Messages per rendering key, computed once within one publication."""

    def __init__(
        self, issue: Issue, renderers: RendererSet, taxonomy: Taxonomy, series: str = ""
    ) -> None:
        """`series`: the subscription key of the issue's series ('' : the primary one),
        which names its mass-send parts (bot/publish/mass.py)."""
        self.issue = issue
        self._renderers = renderers
        self._taxonomy = taxonomy
        self._series = series
        self._messages: dict[tuple[str, str], list[StoredMessage]] = {}
        self._parts: dict[str, list[StoredMessage]] = {}  # mass-send part -> its message
        self._order = {part: i for i, part in enumerate(part_names(taxonomy, series))}

    def __len__(self) -> int:
        return sum(1 for messages in self._messages.values() if messages)

    @property
    def parts(self) -> dict[str, list[StoredMessage]]:
        """Rendering key -> message of every mass-send part rendered (and with content).
        With any follower, the series' `all` part too: a follower whose section has no
        tag yet (a free heading first seen after the start) carries `all` meanwhile
        (bot/platforms/wechat/tags.py), so `all` always has something to send."""
        if self._parts:
            self.part_messages(qualified(ALL_PART, self._series))
        return {mass_part_key(part): m for part, m in self._parts.items() if m}

    def messages(self, subscriber: Subscriber) -> tuple[str, list[StoredMessage]] | None:
        """(rendering key, messages) for the subscriber; None when it gets nothing."""
        if subscriber.platform == MASS_PLATFORM:
            return self._mass(subscriber)
        key = rendering_key(subscriber)
        if key is None:
            return None
        cached = self._messages.get((subscriber.platform, key))
        if cached is None:
            renderer = self._renderers.get(profile_of(subscriber), subscriber.language)
            cached = stored(render_for(renderer, self.issue, subscriber, self._taxonomy))
            self._messages[subscriber.platform, key] = cached
        return (key, cached) if cached else None

    def _mass(self, subscriber: Subscriber) -> tuple[str, list[StoredMessage]] | None:
        """A follower's parts' messages, in push order (tags of everything first)."""
        last = len(self._order)
        parts = desired_parts(subscriber, self._series)
        parts = sorted(parts, key=lambda p: self._order.get(p, last))
        if not parts:
            return None
        key = _bounded("mass;parts=" + ",".join(parts), "mass;parts=")
        cached = self._messages.get((MASS_PLATFORM, key))
        if cached is None:
            cached = [m for part in parts for m in self.part_messages(part)]
            self._messages[MASS_PLATFORM, key] = cached
        return (key, cached) if cached else None

    def part_messages(self, part: str) -> list[StoredMessage]:
        """The one mass-send message of `part` ([] when the issue has nothing for it)."""
        cached = self._parts.get(part)
        if cached is None:
            language = self._renderers.mass_language
            text = render_part(self._renderers.mass(), self.issue, part, self._taxonomy, language)
            size = len(text.encode()) if text is not None else 0
            message = Message(text, "text", size, "bytes") if text is not None else None
            cached = [{**dataclasses.asdict(message), "part": part}] if message else []
            self._parts[part] = cached
        return cached
