"""An update -> the handler that answers it, wrapped in the filters the table asks for.

Texts route to their command's row (or to the "unknown command" and "not a command"
answers), button presses to the row of their payload's type (or "expired button").
The table's flags become filters here: `admin` -> AdminOnly, `groups="mentioned"` ->
GroupNeedsMention; handler modules never check these themselves.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from bot.commands.buttons import Payload
from bot.commands.context import Ctx
from bot.commands.filters import (
    AdminOnly,
    Filter,
    GroupIgnoresChatter,
    GroupNeedsMention,
    NotForUs,
)
from bot.commands.spec import ButtonSpec, CommandSpec, CommandTable
from bot.commands.types import Invocation, Reply

Run = Callable[[Ctx], Awaitable[list[Reply]]]

# A command we do not know is answered (with a hint) in groups only when addressed to us:
# it is probably another bot's, and every bot in the group receives it.
_UNKNOWN_FILTERS: Final[tuple[Filter, ...]] = (GroupNeedsMention(),)
_NOT_A_COMMAND_FILTERS: Final[tuple[Filter, ...]] = (NotForUs(), GroupIgnoresChatter())


@dataclass(frozen=True, slots=True)
class Route:
    run: Run
    filters: tuple[Filter, ...] = ()
    # In a group, only the group's admins may run it (checked by the core, which can
    # ask the platform: filters are synchronous and know no platform).
    group_admins_only: bool = False


class Router:
    def __init__(self, table: CommandTable) -> None:
        self.table = table

    def for_text(self, invocation: Invocation | None) -> Route:
        if invocation is None:
            return Route(_not_a_command, _NOT_A_COMMAND_FILTERS)
        command = self.table.by_name.get(invocation.name)
        if command is None:
            return Route(_unknown(invocation), _UNKNOWN_FILTERS)
        changes = command.changes_chat == "always" or (
            command.changes_chat == "with_args" and bool(invocation.args)
        )
        return Route(_bind_command(command, invocation), command_filters(command), changes)

    def for_button(self, payload: Payload | None) -> Route:
        button = None if payload is None else self.table.by_payload.get(type(payload))
        if button is None or payload is None:
            return Route(_expired)
        return Route(_bind_button(button, payload), button_filters(button), button.changes_chat)


def command_filters(command: CommandSpec) -> tuple[Filter, ...]:
    filters: list[Filter] = []
    if command.groups == "mentioned":
        filters.append(GroupNeedsMention())
    if command.admin:
        filters.append(AdminOnly())
    return tuple(filters)


def button_filters(button: ButtonSpec) -> tuple[Filter, ...]:
    return (AdminOnly(),) if button.admin else ()


def _bind_command(command: CommandSpec, invocation: Invocation) -> Run:
    async def run(ctx: Ctx) -> list[Reply]:
        return await command.handler(ctx, invocation)

    return run


def _bind_button(button: ButtonSpec, payload: Payload) -> Run:
    async def run(ctx: Ctx) -> list[Reply]:
        return await button.handler(ctx, payload)

    return run


def _unknown(invocation: Invocation) -> Run:
    async def run(ctx: Ctx) -> list[Reply]:
        name = ctx.echo(f"/{invocation.name}")
        return [ctx.say(ctx.t("unknown_command", command=name, help=ctx.cmd("help")))]

    return run


async def _not_a_command(ctx: Ctx) -> list[Reply]:
    number = _choice_number(ctx.incoming.text)
    if number is not None:
        # A reader answering a menu by its number (as on the terminal, where numbers
        # press buttons) must learn that no button has it, not get a generic hint.
        key = "number_no_button" if ctx.has_buttons else "number_not_command"
        return [ctx.say(ctx.t(key, number=number, help=ctx.cmd("help")))]
    return [ctx.say(ctx.t("not_a_command", help=ctx.cmd("help")))]


def _choice_number(text: str) -> str | None:
    """`9`, `９`, `#3`, `3.`: a number typed alone; None for anything else."""
    folded = unicodedata.normalize("NFKC", text).strip().lstrip("#").rstrip(".、)")
    if 0 < len(folded) <= 6 and folded.isascii() and folded.isdigit():
        return folded
    return None


async def _expired(ctx: Ctx) -> list[Reply]:
    return [ctx.say(ctx.t("expired_button"))]
