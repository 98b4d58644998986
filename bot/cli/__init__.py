"""`briefbot` command line: parses arguments, builds settings, and calls bot/app.py.

bot/app.py (the composition root) builds the engines, bots and tasks a process runs.

Start-up time is part of the interface (`briefbot --help` answers at once), so this
package imports the standard library and the sub-commands' argparse declarations only;
settings, the runtime and each handler's modules are imported when a command runs
(`bench/startup_bench.py` measures it, `tests/bot/test_cli_startup.py` guards it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import archive, chat, check_layout, delivery, publishing, reading, run, subscribers

if TYPE_CHECKING:
    from bot.cli.base import Handler
    from bot.config import Settings

# Each module adds its sub-commands; a sub-command sets `handler` (and maybe `migrate`).
COMMAND_MODULES = (run, archive, reading, chat, publishing, subscribers, delivery, check_layout)
ANNOUNCED = frozenset({"run", "ingest", "tick"})  # commands that say where they write


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Archive a periodic markdown briefing and publish it to chat subscribers.",
    )
    _add_config_option(parser, default=None)
    parser.add_argument(
        "--series",
        dest="in_series",
        metavar="SLUG",
        help="with several [[series]]: the series archive commands work on "
        "(ingest, issues, show, render, search, publish, ...; default: the first)",
    )
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
    from bot.config import ConfigError, load_settings  # pydantic and SQLAlchemy: past --help
    from bot.redaction import Redactor, installed

    with installed(Redactor()):  # settings unknown yet: secret-shaped text only
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"briefbot: {exc}", file=sys.stderr)
            return 2
    # Every command's logs, output, uncaught errors and stored text lose the secrets.
    with installed(Redactor.from_settings(settings)):
        return _main(args, settings)


def _main(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config import ConfigError
    from bot.redaction import describe

    try:
        return asyncio.run(_dispatch(args, settings))
    except ConfigError as exc:  # found while opening, e.g. the database does not exist
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `briefbot issues | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # quiet exit flush
        return 0
    except Exception as exc:  # e.g. an API refusing the app secret: one line, not a trace
        logging.getLogger("briefbot").debug("%s failed", args.command, exc_info=True)
        print(f"briefbot: {args.command} failed: {describe(exc)}", file=sys.stderr)
        return 1


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config import ConfigError, describe_setup
    from bot.redaction import Redactor, scrub_database
    from bot.runtime import open_runtime
    from bot.series_slugs import check_series_words

    handler: Handler = args.handler
    check_series_words(settings)  # before anything is opened, like a config error
    if args.command in ANNOUNCED:  # which archive and sources, before anything is touched
        print(f"briefbot: {describe_setup(settings)}", file=sys.stderr)
    async with open_runtime(settings, migrate=getattr(args, "migrate", True)) as runtime:
        scrub_database(runtime.engine, Redactor.from_settings(settings))
        chosen = getattr(args, "in_series", None)
        if chosen is not None:
            view = runtime.for_series(chosen)
            if view is None:
                known = ", ".join(r.series.slug for r in runtime.each_series())
                raise ConfigError(f"--series: no series {chosen!r}; configured: {known}")
            runtime = view
        return await handler(args, runtime)


if __name__ == "__main__":
    sys.exit(main())
