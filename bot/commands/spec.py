"""The shape of the command table, and everything derived from it.

A command is declared once, as a `CommandSpec` row (bot/commands/table.py); the
parser's aliases, the spelling replies use on text-only platforms, the Telegram
menus and /help are all computed here from the rows, so they cannot drift apart.
The human texts (description, argument syntax, example) live in `bot.i18n`
under the command's name.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypeVar

from bot import i18n
from bot.commands.buttons import Payload
from bot.commands.types import Invocation, Reply

if TYPE_CHECKING:
    from bot.commands.context import Ctx

K = TypeVar("K")
V = TypeVar("V")

Handler = Callable[["Ctx", Invocation], Awaitable[list[Reply]]]
# Receives the decoded payload of the `ButtonSpec.payload` type.
ButtonHandler = Callable[["Ctx", Any], Awaitable[list[Reply]]]

# Where a command is answered in a group or channel: "always", or only when addressed
# as /cmd@ourbot (other bots in the group receive the same text).
GroupRule = Literal["always", "mentioned"]
# Whether a command changes what the chat stores (its subscription, settings, its very
# existence): in a group only the group's admins may, where the platform can tell who
# they are (bot/commands/group_admins.py). "with_args": only when it has arguments
# (`/settings` alone shows, `/settings pause` changes).
ChangeRule = Literal["never", "always", "with_args"]

# Telegram's setMyCommands rules (the strictest of our platforms).
MENU_NAME: Final = re.compile(r"[a-z0-9_]{1,32}")
MENU_DESCRIPTION_CHARS: Final = 256


@dataclass(frozen=True, slots=True)
class Word:
    """A word that starts a command, with preset arguments (`暂停` = `/settings pause`)."""

    text: str
    preset: tuple[str, ...] = ()
    glued: bool = False  # may be glued to its argument: 搜索量化, 订阅论文


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, the words that call it, who may use it, its handler."""

    name: str  # /name; on text-only platforms also a plain first word
    handler: Handler
    # Plain-text words on WeChat, WeCom and the terminal (Chinese, `?`); longest match
    # wins. The first one without a preset is how replies there spell the command.
    words: tuple[Word, ...] = ()
    # Extra English names: /slash aliases everywhere, plain first words on text platforms.
    aliases: tuple[Word, ...] = ()
    admin: bool = False  # refused (AdminOnly) unless the adapter marked the user admin
    groups: GroupRule = "always"
    changes_chat: ChangeRule = "never"


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """One kind of button: its payload type (bot/commands/buttons.py) and handler."""

    payload: type[Payload]
    handler: ButtonHandler
    admin: bool = False
    changes_chat: bool = False  # see ChangeRule


class Alias(NamedTuple):
    """What a word means: the canonical command and the arguments it presets."""

    name: str
    preset: tuple[str, ...] = ()
    takes_text: bool = False


class CommandTable:
    """The rows, checked once, with the lookups the parser, menus and /help need."""

    def __init__(self, commands: Iterable[CommandSpec], buttons: Iterable[ButtonSpec]) -> None:
        self.commands: tuple[CommandSpec, ...] = tuple(commands)
        self.buttons: tuple[ButtonSpec, ...] = tuple(buttons)
        self.by_name: Mapping[str, CommandSpec] = _unique(
            (c.name, c) for c in self.commands if _valid_name(c.name)
        )
        self.by_payload: Mapping[type[Payload], ButtonSpec] = _unique(
            (b.payload, b) for b in self.buttons
        )
        self.slash_aliases: Mapping[str, Alias] = _unique(
            (w.text, Alias(c.name, w.preset))
            for c in self.commands
            for w in c.aliases
            if _valid_name(w.text)
        )
        self.text_aliases: Mapping[str, Alias] = _unique(
            (w.text, Alias(c.name, w.preset, w.glued)) for c in self.commands for w in c.words
        )
        # Longest first: 取消订阅 must win over 订阅.
        self.longest_words_first: tuple[tuple[str, Alias], ...] = tuple(
            sorted(self.text_aliases.items(), key=lambda item: len(item[0]), reverse=True)
        )
        self.text_forms: Mapping[str, str] = MappingProxyType(
            {c.name: _text_form(c) for c in self.commands if _text_form(c)}
        )
        clash = set(self.slash_aliases) & set(self.by_name)
        if clash:
            raise ValueError(f"aliases that are command names: {sorted(clash)}")
        texts = {**i18n.COMMAND_TEXTS, **i18n.SERIES_COMMAND_TEXTS}
        missing = [c.name for c in self.commands if c.name not in texts]
        if missing:
            raise ValueError(f"commands without texts in bot.i18n.COMMAND_TEXTS: {missing}")

    def adding(self, *commands: CommandSpec, buttons: Iterable[ButtonSpec] = ()) -> CommandTable:
        """A copy with more rows (tests, and the recipe for a new command)."""
        return CommandTable((*self.commands, *commands), (*self.buttons, *buttons))

    def for_series(self, commands: Iterable[CommandSpec]) -> CommandTable:
        """This table for a bot with several series: with their `commands` (/series)."""
        return self.adding(*commands)

    @property
    def public(self) -> list[CommandSpec]:
        """Commands everyone may use, in table order (menus, /start, /help)."""
        return [c for c in self.commands if not c.admin]

    @property
    def admin(self) -> list[CommandSpec]:
        return [c for c in self.commands if c.admin]

    def menu(self, language: str) -> list[tuple[str, str]]:
        """(command, description) of the public commands, for Telegram's setMyCommands."""
        lang = "en" if language == "en" else "zh"
        return [(c.name, i18n.describe(lang, c.name)) for c in self.public]


def _valid_name(name: str) -> bool:
    if not MENU_NAME.fullmatch(name):
        raise ValueError(f"command name or alias {name!r} is not 1-32 of [a-z0-9_]")
    return True


def _text_form(command: CommandSpec) -> str:
    return next((w.text for w in command.words if not w.preset), "")


def _unique(pairs: Iterable[tuple[K, V]]) -> Mapping[K, V]:
    result: dict[K, V] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"{key!r} declared twice in the command table")
        result[key] = value
    return MappingProxyType(result)
