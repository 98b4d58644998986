"""Command and button names -> handlers, gathered from the command modules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.commands import admin, browse, meta, search, settings, subscriptions
from bot.commands.context import ButtonHandler, Handler
from bot.commands.parsing import COMMANDS


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    admin: bool = False


@dataclass(frozen=True, slots=True)
class ButtonRoute:
    prefix: str
    handler: ButtonHandler
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Router:
    commands: Mapping[str, Command]
    buttons: Mapping[str, ButtonRoute]

    def menu(self) -> list[Command]:
        """Public commands in the canonical order."""
        return [
            self.commands[n] for n in COMMANDS if n in self.commands and not self.commands[n].admin
        ]


_MODULES = (meta, browse, search, subscriptions, settings, admin)


def build_router() -> Router:
    commands: dict[str, Command] = {}
    buttons: dict[str, ButtonRoute] = {}
    for module in _MODULES:
        is_admin = module is admin
        for name, handler in module.COMMANDS.items():
            if name in commands:
                raise ValueError(f"command {name!r} defined twice")
            commands[name] = Command(name, handler, is_admin)
        for prefix, button in module.BUTTONS.items():
            if prefix in buttons or ":" in prefix:
                raise ValueError(f"bad or duplicate button prefix {prefix!r}")
            buttons[prefix] = ButtonRoute(prefix, button, is_admin)
    missing = set(COMMANDS) - set(commands)
    if missing:
        raise ValueError(f"commands without a handler: {sorted(missing)}")
    return Router(MappingProxyType(commands), MappingProxyType(buttons))
