"""`briefbot run`: the main job — sources and scheduler, delivery, chat platforms — until stopped.

With no chat platform configured (no Telegram token, no WeChat/WeCom) the chat is this
terminal (the embedded default), which is also subscribed to every issue the first
time; `--no-chat` runs without reading it.
SIGINT/SIGTERM, /quit or the end of the terminal's input stop the job gracefully:
sends under way finish and are recorded, the rest stay pending for the next start.
This module parses the arguments; `bot.app.run_bot` builds and runs everything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers, fail, parse_moment

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.runtime import Runtime


def register(commands: Subparsers) -> None:
    run = commands.add_parser(
        "run",
        help="run the bot: poll sources, publish due issues, deliver, answer chats",
        description=(
            "Runs until SIGINT/SIGTERM. Without telegram.token the chat is this terminal "
            "(/quit or end of input stops the bot)."
        ),
    )
    run.add_argument(
        "--no-chat",
        action="store_true",
        help="do not read commands from this terminal (a headless run without a token)",
    )
    run.add_argument(
        "--start",
        metavar="ISO-8601",
        help="rehearsal: the publication clock starts at this time, then runs in real time",
    )
    run.set_defaults(handler=_run)


async def _run(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot import app  # heavy: past argument parsing only
    from bot.cluster.single import AlreadyRunning, single_instance

    try:
        clock = start_clock(args.start, runtime.settings.publish.timezone)
    except ValueError as exc:
        return fail(f"--start: {exc}", 2)
    if problem := app.start_problem(runtime.settings):
        return fail(problem, 2)
    try:
        with single_instance(runtime.settings.storage.url):  # SQLite: one `run` per file
            return await _serve(args, runtime, clock)
    except AlreadyRunning as exc:
        return fail(str(exc))


async def _serve(args: argparse.Namespace, runtime: Runtime, clock: Clock) -> int:
    from telegram.error import TelegramError

    from bot import app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run is noise
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request, URL and all
    stop = asyncio.Event()
    with stop_on_signals(stop):
        try:
            return await app.run_bot(runtime, clock, chat=not args.no_chat, stop=stop)
        except TelegramError as exc:  # a wrong token or an unreachable API at start-up
            return fail(f"telegram: {exc}")


def start_clock(start: str | None, timezone: str) -> Clock:
    from bot.clock import ShiftedClock, SystemClock

    return SystemClock() if start is None else ShiftedClock(parse_moment(start, timezone))


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    try:
        yield
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
