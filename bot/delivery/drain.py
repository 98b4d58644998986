"""One-shot delivery for `briefbot tick --deliver`: send everything pending, then return."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

from bot.config import Settings
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.report import DrainReport
from bot.delivery.senders.console import ConsoleSender
from bot.delivery.senders.telegram import TelegramSender
from bot.delivery.types import Notifier, Sender
from bot.runtime import Runtime


@asynccontextmanager
async def default_senders(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """Telegram when a token is configured, and the console (stdout).

    Deliveries of platforms without a sender stay pending for a process that has one.
    """
    async with AsyncExitStack() as stack:
        senders: dict[str, Sender] = {"console": ConsoleSender()}
        if settings.telegram.token is not None:
            senders["telegram"] = await stack.enter_async_context(
                TelegramSender.from_settings(settings.telegram)
            )
        yield senders


async def drain(
    runtime: Runtime,
    senders: Mapping[str, Sender] | None = None,
    *,
    notifier: Notifier | None = None,
    tuning: EngineTuning | None = None,
) -> DrainReport:
    """Send every pending delivery of the platforms in `senders` (default: `default_senders`)."""
    if senders is None:
        async with default_senders(runtime.settings) as built:
            return await drain(runtime, built, notifier=notifier, tuning=tuning)
    engine = DeliveryEngine(
        runtime.sessions, senders, runtime.settings.delivery, notifier=notifier, tuning=tuning
    )
    return await engine.run_until_idle()
