"""Everything a handler needs about one request: deps, chat, subscriber, language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.commands.deps import CoreDeps, SeriesChoice
from bot.commands.spec import CommandTable
from bot.commands.types import Button, Chat, Incoming, Reply
from bot.rendering import renderer_for
from formatters import Renderer
from storage.subscribers import Subscriber, Subscription, get_or_create, get_subscriber_by_id

# Platforms whose messages carry buttons; elsewhere texts mention the commands instead.
BUTTON_PLATFORMS: Final = frozenset({"telegram", "console"})


@dataclass(frozen=True, slots=True)
class Ctx:
    deps: CoreDeps
    incoming: Incoming
    subscriber: Subscriber | None
    lang: str
    commands: CommandTable  # for /help and for spelling commands the way this chat types them

    @property
    def chat(self) -> Chat:
        return self.incoming.chat

    @property
    def renderer(self) -> Renderer:
        return renderer_for(self.chat.platform, None, self.lang, self.deps.settings)

    @property
    def has_buttons(self) -> bool:
        return self.chat.platform in BUTTON_PLATFORMS

    def now(self) -> datetime:
        return self.deps.clock()

    def with_lang(self, lang: str) -> Ctx:
        return replace(self, lang=lang)

    def with_subscriber(self, subscriber: Subscriber | None) -> Ctx:
        return replace(self, subscriber=subscriber)

    # -- texts -----------------------------------------------------------------

    def t(self, key: str, **fields: object) -> str:
        return i18n.t(self.lang, key, **fields)

    def cmd(self, name: str, *args: str) -> str:
        """How the user types `name` here: `/latest 论文`, or `最新 论文` on WeChat.

        The Chinese words are for Chinese replies: an English reply on WeChat spells the
        slash command, which every platform accepts."""
        text_only = self.chat.platform in ("wechat", "wecom") and self.lang == "zh"
        word = self.commands.text_forms.get(name) if text_only else None
        return " ".join((word or f"/{name}", *args))

    def join(self, names: Iterable[str]) -> str:
        return i18n.join_names(self.lang, list(names))

    def echo(self, text: str) -> str:
        """Something the user sent, quoted back clipped to one short line."""
        return i18n.clip(text)

    def echo_list(self, names: Sequence[str]) -> str:
        """The user's words quoted back: a few, clipped, then "and N more"."""
        return i18n.echo_names(self.lang, names)

    def name_of(self, subscription: Subscription) -> str:
        if subscription.kind == "all":
            return self.t("everything")
        return self.deps.taxonomy.display_name(subscription.key, self.lang)

    def say(
        self,
        *paragraphs: str,
        buttons: Sequence[Sequence[Button]] = (),
        edit: bool = False,
    ) -> Reply:
        """A service message of plain paragraphs (escaped by the renderer)."""
        text = "\n\n".join(p for p in paragraphs if p)
        return Reply(tuple(self.renderer.service(text)), rows(buttons), edit)

    # -- subscriber ------------------------------------------------------------

    async def ensure_subscriber(self, session: AsyncSession) -> tuple[Subscriber, bool]:
        """This chat's subscriber, created (with no subscriptions) if missing, with its
        subscriptions to the series the command is about."""
        return await get_or_create(
            session,
            self.chat.platform,
            self.chat.chat_id,
            kind=self.chat.kind,
            language=self.lang,
            now=self.now(),
            series=self.deps.subscription_series,
        )

    @property
    def series_key(self) -> str:
        """The series the command is about, as its subscriptions name it ('' = primary)."""
        return self.deps.subscription_series

    async def in_series(self, choice: SeriesChoice) -> Ctx:
        """This request about another series: its taxonomy, and the subscriber with its
        subscriptions to that series."""
        subscriber = self.subscriber
        if subscriber is not None:
            async with self.deps.sessions() as session:
                subscriber = await get_subscriber_by_id(session, subscriber.id, series=choice.key)
        return replace(self, deps=self.deps.in_series(choice), subscriber=subscriber)


def rows(buttons: Sequence[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in buttons if row)


def grid(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]
