"""The composition root: what a briefbot process runs, built from settings.

`bot/cli` parses arguments and calls in here; nothing else decides which platforms,
senders and loops exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from bot.config import Settings
from bot.delivery.drain import drain
from bot.delivery.engine import EngineTuning
from bot.delivery.report import DrainReport
from bot.delivery.types import Notifier, Sender
from bot.platforms.console.sender import ConsoleSender
from bot.platforms.telegram.sender import TelegramSender
from bot.runtime import Runtime


@asynccontextmanager
async def delivery_senders(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """The engine's senders outside `run`: Telegram when configured, and the console (stdout).

    Deliveries of platforms without a sender stay pending for a process that has one.
    """
    async with AsyncExitStack() as stack:
        senders: dict[str, Sender] = {"console": ConsoleSender()}
        if settings.telegram.token is not None:
            senders["telegram"] = await stack.enter_async_context(
                TelegramSender.from_settings(settings.telegram)
            )
        yield senders


async def drain_configured(
    runtime: Runtime, *, notifier: Notifier | None = None, tuning: EngineTuning | None = None
) -> DrainReport:
    """Send every pending delivery that this configuration has a sender for."""
    async with delivery_senders(runtime.settings) as senders:
        return await drain(runtime, senders, notifier=notifier, tuning=tuning)
