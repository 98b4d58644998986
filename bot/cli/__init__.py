"""`briefbot` command line: the only place that builds settings, engines, bots and tasks."""

from __future__ import annotations

import argparse
import asyncio
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
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (default: ./config.toml if present, else built-in defaults)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


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


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    handler: Handler = args.handler
    async with open_runtime(settings, migrate=getattr(args, "migrate", True)) as runtime:
        return await handler(args, runtime)


if __name__ == "__main__":
    sys.exit(main())
