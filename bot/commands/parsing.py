"""Command text -> `Invocation`: slash commands, `@botname` suffixes and Chinese aliases.

Telegram only knows slash commands (`/latest`, `/search@briefbot 量化`, `／latest`).
On WeChat, WeCom and the console a plain text starting with a Chinese alias is a
command too (`最新`, `搜索 量化`, `订阅论文`, `帮助`, `?`), and so is one starting with
a command's English name as a separate word (`latest`, `search MNN`, `Help`): those
chats have no slash menu. Aliases map to the same canonical names, sometimes with preset
arguments (`暂停` = `/settings pause`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, NamedTuple

from bot.commands.types import Invocation

TEXT_COMMAND_PLATFORMS: Final = frozenset({"wechat", "wecom", "console"})
SLASHES: Final = "/／"


class Alias(NamedTuple):
    name: str
    preset: tuple[str, ...] = ()
    takes_text: bool = False  # may be glued to its argument: 搜索量化, 订阅论文


COMMANDS: Final = (
    "start", "help", "latest", "issue", "issues", "search", "sections",
    "subscribe", "unsubscribe", "settings", "stop", "stats", "preview", "publish",
)  # fmt: skip

# Extra slash names (ASCII, as Telegram allows).
SLASH_ALIASES: Final[dict[str, Alias]] = {
    "sub": Alias("subscribe"),
    "unsub": Alias("unsubscribe"),
    "topics": Alias("sections"),
    "find": Alias("search"),
    "archive": Alias("issues"),
    "pause": Alias("settings", ("pause",)),
    "resume": Alias("settings", ("resume",)),
    "lang": Alias("settings", ("lang",)),
    "language": Alias("settings", ("lang",)),
}

# Chinese words that start a command; longest match wins.
TEXT_ALIASES: Final[dict[str, Alias]] = {
    "最新": Alias("latest", takes_text=True),
    "搜索": Alias("search", takes_text=True),
    "订阅": Alias("subscribe", takes_text=True),
    "退订": Alias("unsubscribe", takes_text=True),
    "取消订阅": Alias("unsubscribe", takes_text=True),
    "栏目": Alias("sections"),
    "设置": Alias("settings", takes_text=True),
    "帮助": Alias("help"),
    "?": Alias("help"),
    "？": Alias("help"),
    "往期": Alias("issues"),
    "开始": Alias("start"),
    "暂停推送": Alias("settings", ("pause",)),
    "暂停": Alias("settings", ("pause",)),
    "恢复推送": Alias("settings", ("resume",)),
    "恢复": Alias("settings", ("resume",)),
    "统计": Alias("stats"),
}
_BY_LENGTH: Final = sorted(TEXT_ALIASES, key=len, reverse=True)
_NAME = re.compile(r"[a-z0-9_]{1,64}")
_HEAD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)


def parse_command(
    text: str, bot_username: str = "", *, platform: str = "telegram"
) -> Invocation | None:
    """The command in `text`, or None when it is not one for us.

    `/cmd@otherbot` is None (a command for another bot in the same group); a slash
    command with an unknown name still parses so the caller can answer with a hint.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0] in SLASHES:
        return _slash(stripped[1:].lstrip(), bot_username)
    if platform in TEXT_COMMAND_PLATFORMS:
        return _text_alias(stripped) or _english_word(stripped)
    return None


def _slash(body: str, bot_username: str) -> Invocation | None:
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
        alias = _text_alias(body) if not name.isascii() else None
        return alias
    alias = SLASH_ALIASES.get(name)
    if alias is None:
        return _invocation(name, (), rest, mentioned)
    return _invocation(alias.name, alias.preset, rest, mentioned)


def _text_alias(text: str) -> Invocation | None:
    folded = unicodedata.normalize("NFKC", text)
    for word in _BY_LENGTH:
        key = unicodedata.normalize("NFKC", word)
        if not folded.startswith(key):
            continue
        rest = folded[len(key) :]
        alias = TEXT_ALIASES[word]
        if rest and not rest[0].isspace() and not alias.takes_text:
            continue
        # Keep the arguments as typed (NFKC only served the match).
        return _invocation(alias.name, alias.preset, _after(text, key), False)
    return None


def _english_word(text: str) -> Invocation | None:
    """`latest`, `Search MNN`: a command name (or slash alias) as the first word."""
    match = _HEAD.fullmatch(text)
    assert match is not None  # the pattern matches any string
    name = unicodedata.normalize("NFKC", match.group(1)).casefold()
    rest = match.group(2).strip()
    if name in COMMANDS:
        return _invocation(name, (), rest, False)
    alias = SLASH_ALIASES.get(name)
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
