"""/settings: push format, language and pause, by buttons or text arguments."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Final

from bot.commands.buttons import SettingChoice, button
from bot.commands.context import Ctx
from bot.commands.types import Button, Invocation, Reply
from storage.subscribers import Subscriber, update_settings

_FORMAT_WORDS: Final = {"format", "fmt", "格式", "推送格式"}
_LANGUAGE_WORDS: Final = {"lang", "language", "语言"}
_FORMATS: Final = {
    "full": "full", "完整": "full", "全文": "full", "详细": "full",
    "digest": "digest", "摘要": "digest", "简洁": "digest", "short": "digest",
}  # fmt: skip
_LANGUAGES: Final = {
    "zh": "zh", "cn": "zh", "chinese": "zh", "中文": "zh", "汉语": "zh",
    "en": "en", "english": "en", "英文": "en", "英语": "en",
}  # fmt: skip
_PAUSE: Final = {
    "pause": True,
    "暂停": True,
    "off": True,
    "resume": False,
    "恢复": False,
    "on": False,
}


@dataclass(frozen=True, slots=True)
class Change:
    format: str | None = None
    language: str | None = None
    paused: bool | None = None

    @property
    def empty(self) -> bool:
        return self.format is None and self.language is None and self.paused is None


def parse_settings(args: tuple[str, ...]) -> tuple[Change, list[str]]:
    """`format digest lang en pause` -> Change(...); words not understood are returned."""
    change = Change()
    unknown: list[str] = []
    words = [unicodedata.normalize("NFKC", a).casefold() for a in args]
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        if word in _FORMAT_WORDS or word in _LANGUAGE_WORDS:
            continue
        if word in _FORMATS and previous not in _LANGUAGE_WORDS:
            change = replace(change, format=_FORMATS[word])
        elif word in _LANGUAGES and previous not in _FORMAT_WORDS:
            change = replace(change, language=_LANGUAGES[word])
        elif word in _PAUSE:
            change = replace(change, paused=_PAUSE[word])
        else:
            unknown.append(args[i])
    return change, unknown


def settings_view(ctx: Ctx, subscriber: Subscriber | None, *, edit: bool, note: str = "") -> Reply:
    fmt = subscriber.format if subscriber else "full"
    paused = subscriber.paused if subscriber else False
    lines = [
        ctx.t("settings_title"),
        ctx.t("settings_format", value=ctx.t(f"format_{fmt}")),
        ctx.t("settings_language", value=ctx.t(f"language_{ctx.lang}")),
        ctx.t("settings_pushes", value=ctx.t("pushes_paused" if paused else "pushes_on")),
    ]
    pause = SettingChoice(paused=not paused)
    buttons = [
        [
            _choice(ctx, fmt == "full", "button_full", SettingChoice(format="full")),
            _choice(ctx, fmt == "digest", "button_digest", SettingChoice(format="digest")),
        ],
        [
            _choice(ctx, ctx.lang == "zh", "language_zh", SettingChoice(language="zh")),
            _choice(ctx, ctx.lang == "en", "language_en", SettingChoice(language="en")),
        ],
        [button(ctx.t("button_resume" if paused else "button_pause"), pause)],
    ]
    usage = ctx.t("settings_usage", settings=ctx.cmd("settings"))
    return ctx.say(note, "\n".join(lines), usage, buttons=buttons, edit=edit)


def _choice(ctx: Ctx, chosen: bool, label: str, choice: SettingChoice) -> Button:
    text = ctx.t(label)
    return button(f"• {text}" if chosen else text, choice)


async def _apply(ctx: Ctx, change: Change) -> tuple[Ctx, Subscriber]:
    async with ctx.deps.sessions.begin() as session:
        subscriber, _ = await ctx.ensure_subscriber(session)
        await update_settings(
            session,
            subscriber.id,
            format=change.format,
            language=change.language,
            language_chosen=True if change.language is not None else None,
            paused=change.paused,
        )
        subscriber, _ = await ctx.ensure_subscriber(session)
    return ctx.with_subscriber(subscriber).with_lang(subscriber.language), subscriber


async def settings(ctx: Ctx, inv: Invocation) -> list[Reply]:
    change, unknown = parse_settings(inv.args)
    if unknown:
        note = ctx.t("settings_unknown", text=ctx.echo_list(unknown))
        return [settings_view(ctx, ctx.subscriber, edit=False, note=note)]
    if change.empty:
        return [settings_view(ctx, ctx.subscriber, edit=False)]
    ctx, subscriber = await _apply(ctx, change)
    return [settings_view(ctx, subscriber, edit=False, note=ctx.t("saved"))]


async def on_setting(ctx: Ctx, choice: SettingChoice) -> list[Reply]:
    change = Change(format=choice.format, language=choice.language, paused=choice.paused)
    ctx, subscriber = await _apply(ctx, change)
    return [settings_view(ctx, subscriber, edit=True)]
