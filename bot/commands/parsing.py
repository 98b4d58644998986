"""Command text -> `Invocation`: slash commands, `@botname` suffixes and Chinese aliases.

Telegram only knows slash commands (`/latest`, `/search@briefbot 量化`, `／latest`).
On WeChat, WeCom and the console a plain text starting with a Chinese alias is a
command too (`最新`, `搜索 量化`, `订阅论文`, `帮助`, `?`), and so is one starting with
a command's English name as a separate word (`latest`, `search MNN`, `Help`): those
chats have no slash menu. Aliases map to the same canonical names, sometimes with preset
arguments (`暂停` = `/settings pause`). Every word comes from the command table
(bot/commands/table.py).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.commands.spec import CommandTable
from bot.commands.table import COMMAND_TABLE
from bot.commands.types import Invocation

TEXT_COMMAND_PLATFORMS: Final = frozenset({"wechat", "wecom", "console"})
SLASHES: Final = "/／"
_NAME = re.compile(r"[a-z0-9_]{1,64}")
_HEAD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)


def parse_command(
    text: str,
    bot_username: str = "",
    *,
    platform: str = "telegram",
    table: CommandTable | None = None,
) -> Invocation | None:
    """The command in `text`, or None when it is not one for us.

    `/cmd@otherbot` is None (a command for another bot in the same group); a slash
    command with an unknown name still parses so the caller can answer with a hint.
    `table` defaults to the bot's command table.
    """
    stripped = text.strip()
    if not stripped:
        return None
    table = COMMAND_TABLE if table is None else table
    if stripped[0] in SLASHES:
        return _slash(table, stripped[1:].lstrip(), bot_username)
    if platform in TEXT_COMMAND_PLATFORMS:
        return _text_alias(table, stripped) or _english_word(table, stripped)
    return None


def _slash(table: CommandTable, body: str, bot_username: str) -> Invocation | None:
    match = _HEAD.fullmatch(body)
    assert match is not None  # the pattern matches any string
    head = unicodedata.normalize("NFKC", match.group(1))
    rest = match.group(2).strip()
    name, at, target = head.partition("@")
    mentioned = False
    if at:
        ours = bot_username.lstrip("@").casefold()
        if ours and target.casefold() != ours:
            return None
        mentioned = bool(ours)
    name = name.casefold()
    if not _NAME.fullmatch(name):
        return _text_alias(table, body) if not name.isascii() else None
    alias = table.slash_aliases.get(name)
    if alias is None:
        return _invocation(name, (), rest, mentioned)
    return _invocation(alias.name, alias.preset, rest, mentioned)


def _text_alias(table: CommandTable, text: str) -> Invocation | None:
    folded = unicodedata.normalize("NFKC", text)
    for word, alias in table.longest_words_first:
        key = unicodedata.normalize("NFKC", word)
        if not folded.startswith(key):
            continue
        rest = folded[len(key) :]
        if rest and not rest[0].isspace() and not alias.takes_text:
            continue
        # Keep the arguments as typed (NFKC only served the match).
        return _invocation(alias.name, alias.preset, _after(text, key), False)
    return None


def _english_word(table: CommandTable, text: str) -> Invocation | None:
    """`latest`, `Search MNN`: a command name (or slash alias) as the first word."""
    match = _HEAD.fullmatch(text)
    assert match is not None  # the pattern matches any string
    name = unicodedata.normalize("NFKC", match.group(1)).casefold()
    rest = match.group(2).strip()
    if name in table.by_name:
        return _invocation(name, (), rest, False)
    alias = table.slash_aliases.get(name)
    return None if alias is None else _invocation(alias.name, alias.preset, rest, False)


def _after(text: str, folded_prefix: str) -> str:
    """`text` without the characters whose NFKC form is `folded_prefix`."""
    for end in range(1, len(text) + 1):
        if unicodedata.normalize("NFKC", text[:end]) == folded_prefix:
            return text[end:].strip()
    return ""


def _invocation(name: str, preset: tuple[str, ...], rest: str, mentioned: bool) -> Invocation:
    args = (*preset, *rest.split())
    raw = " ".join((*preset, rest)).strip() if preset else rest
    return Invocation(name=name, args=args, raw_args=raw, mentioned=mentioned)
