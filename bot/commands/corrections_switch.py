"""/corrections [on|off] (更正 [开|关]): admins switch corrections of published issues
on or off from the chat; alone it says whether they are on.

The switch is kept in the database (storage/switches.py), so every instance's corrector
and previewer read it (bot/publish/corrections.py, correction_preview.py). The
configuration key `publish.corrections` stays the default and a hard off: when it says
off, the chat cannot switch corrections on, and the reply says why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.commands.context import Ctx
from bot.commands.types import Invocation, Reply
from storage.switches import Switch, corrections_switch, switch_corrections

# What switches them on or off, in either language.
ON: Final = frozenset({"on", "开", "开启", "打开"})
OFF: Final = frozenset({"off", "关", "关闭"})


async def corrections(ctx: Ctx, inv: Invocation) -> list[Reply]:
    if len(inv.args) > 1 or (inv.args and inv.args[0].casefold() not in ON | OFF):
        return [ctx.say(ctx.t("corrections_usage", command=ctx.cmd(inv.name), **_commands(ctx)))]
    if not ctx.deps.settings.publish.corrections:
        return [ctx.say(ctx.t("corrections_config_off"))]
    if not inv.args:
        async with ctx.deps.sessions() as session:
            switch = await corrections_switch(session)
        return [ctx.say(_state(ctx, switch))]
    wanted = inv.args[0].casefold() in ON
    async with ctx.deps.sessions.begin() as session:
        switch = await corrections_switch(session)
        if switch.on != wanted:
            by = f"{ctx.chat.platform}:{ctx.incoming.user_id}"
            await switch_corrections(session, wanted, by, ctx.now())
    return [ctx.say(_switched(ctx, switch, wanted))]


def _state(ctx: Ctx, switch: Switch) -> str:
    if switch.on:
        return ctx.t("corrections_state_on", hours=_hours(ctx), **_commands(ctx))
    return ctx.t("corrections_state_off", at=_at(ctx, switch.at), **_commands(ctx))


def _switched(ctx: Ctx, before: Switch, on: bool) -> str:
    if before.on == on:
        key = "corrections_already_on" if on else "corrections_already_off"
        return ctx.t(key, at=_at(ctx, before.at), **_commands(ctx))
    key = "corrections_switched_on" if on else "corrections_switched_off"
    return ctx.t(key, hours=_hours(ctx), **_commands(ctx))


def _commands(ctx: Ctx) -> dict[str, str]:
    """How the admin switches them, spelled in the reply's language and platform."""
    return {
        "on": ctx.cmd("corrections", ctx.t("corrections_word_on")),
        "off": ctx.cmd("corrections", ctx.t("corrections_word_off")),
    }


def _hours(ctx: Ctx) -> str:
    return f"{ctx.deps.settings.publish.corrections_window_hours:g}"


def _at(ctx: Ctx, moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = ZoneInfo(ctx.deps.settings.publish.timezone)
    return moment.astimezone(zone).isoformat(timespec="minutes")
