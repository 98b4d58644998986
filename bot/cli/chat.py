"""`briefbot chat`: talk to the bot's command core in the terminal (reads the archive only)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(commands: Subparsers) -> None:
    chat = commands.add_parser(
        "chat",
        help="chat with the bot in this terminal (stdin lines in, replies out; pipes work)",
    )
    chat.add_argument(
        "--lang",
        choices=("zh", "en"),
        default=None,
        help="reply language until /settings stores one (default zh)",
    )
    chat.set_defaults(handler=_chat)


async def _chat(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.commands import Core, CoreDeps  # heavy: imported when the command runs
    from bot.platforms.console.adapter import run_console

    core = Core(CoreDeps.from_runtime(runtime))
    return await run_console(core, sys.stdin, sys.stdout, language_code=args.lang)
