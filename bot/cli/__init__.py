"""`briefbot` command line: the only place that builds settings, engines, bots and tasks."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import archive, chat, delivery, publishing, reading, run
from bot.cli.base import Handler
from bot.config import ConfigError, Settings, load_settings
from bot.runtime import open_runtime

# Each module adds its sub-commands; a sub-command sets `handler` (and maybe `migrate`).
COMMAND_MODULES = (run, archive, reading, chat, publishing, delivery)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Archive a periodic markdown briefing and publish it to chat subscribers.",
    )
    _add_config_option(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    _config_everywhere(parser)
    return parser


def _add_config_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        help="TOML config file (default: ./config.toml if present, else built-in defaults)",
    )


def _config_everywhere(parser: argparse.ArgumentParser) -> None:
    """`briefbot issues --config F` works like `briefbot --config F issues`."""
    for action in parser._actions:  # argparse has no public walk over sub-commands
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_config_option(sub, default=argparse.SUPPRESS)  # keeps the global value
                _config_everywhere(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `briefbot issues | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # quiet exit flush
        return 0


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    handler: Handler = args.handler
    async with open_runtime(settings, migrate=getattr(args, "migrate", True)) as runtime:
        return await handler(args, runtime)


if __name__ == "__main__":
    sys.exit(main())
