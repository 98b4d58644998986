"""The composition root: what a briefbot process runs, built from settings.

`bot/cli` parses arguments and calls in here; nothing else decides which platforms,
senders and loops a process has. Which platforms are configured is asked of each
platform package (`bot.platforms.<name>.configured`).

    code = await run_bot(runtime, SystemClock(), chat=True, stop=stop_event)   # `run`
    report = await drain_configured(runtime)                                   # `--deliver`

`run_bot` builds: the publication cycle and its scheduler (sources, publisher), the
command core, Telegram (polling or webhook) when configured, the web service (WeChat and
WeCom callbacks and push senders, the Telegram webhook route) when wanted, otherwise the
terminal chat, and the delivery engine with every platform's sender (the console,
Telegram, WeCom's batches and the Official Account's tag campaigns).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import Route
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.cluster import Leadership, Membership
from bot.cluster.membership import short_lived
from bot.commands import Core, CoreDeps
from bot.config import Settings, WebSettings
from bot.delivery.correction_terms import CorrectionTerms
from bot.delivery.drain import drain
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.ratelimit import Gate, RateLimits
from bot.delivery.report import DrainReport
from bot.delivery.share import GlobalShare
from bot.delivery.types import AlertSink, Sender
from bot.platforms import telegram as telegram_platform
from bot.platforms.console.adapter import CONSOLE_CHAT, run_console
from bot.platforms.console.sender import ConsoleSender
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.platforms.telegram.limiter import GateLimiter
from bot.platforms.telegram.sender import TelegramSender
from bot.platforms.telegram.transport import AiohttpRequest
from bot.platforms.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.publish.alerts import FanoutNotifier, LogNotifier, SenderNotifier, StreamNotifier
from bot.publish.cycle import Cycle, build_cycle
from bot.publish.scheduler import build_scheduler
from bot.runtime import Runtime
from bot.web.service import (
    WebService,
    carries_chat,
    needs_web,
    open_web_service,
    web_service_wanted,
)
from formatters import TelegramRenderer
from storage.subscribers import ALL, add_subscription, get_or_create

log = logging.getLogger("briefbot")
Loop = Callable[[asyncio.Event], Awaitable[object]]
JOB_GRACE_SECONDS = 60.0  # a poll (git fetch, HTTP) or a publication check under way at stop


# --- `briefbot run` ----------------------------------------------------------------------


@dataclass
class Platforms:
    """What the chat platforms contribute: delivery senders and loops that run until stop."""

    senders: dict[str, Sender]
    loops: list[Loop] = field(default_factory=list)
    # Run by the leading instance only, until its term ends (Telegram long polling).
    leader_loops: list[Loop] = field(default_factory=list)
    gates: dict[str, Gate] = field(default_factory=dict)  # shared by the engine and replies
    web: WebService | None = None
    description: list[str] = field(default_factory=list)


def start_problem(settings: Settings) -> str | None:
    """What stops `run` before any platform starts (Telegram's webhook, pushers), or None."""
    return bind_problem(settings.web) if needs_web(settings) else None


async def run_bot(runtime: Runtime, clock: Clock, *, chat: bool, stop: asyncio.Event) -> int:
    """Everything `briefbot run` runs, until `stop`; 1 if a loop failed.

    Raises telegram.error.TelegramError when Telegram refuses to start (a wrong token).
    """
    notifier = FanoutNotifier([LogNotifier()])
    cycle = build_cycle(runtime, clock, notifier)
    core = Core(CoreDeps.from_runtime(runtime, publisher=cycle.publisher))
    async with open_platforms(runtime, core, notifier, chat=chat) as platforms:
        log.info("serving %s: %s", runtime.series.title, ", ".join(platforms.description))
        return await serve(runtime, cycle, platforms, notifier, stop)


def bind_problem(web: WebSettings) -> str | None:
    """Bind the web address once, as uvicorn will (SO_REUSEADDR, each resolved address):
    a one-line problem naming the key, or None when it can be served."""
    try:
        infos = socket.getaddrinfo(
            web.host or None, web.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a host name"
        return f"web.host {web.host} cannot be resolved: {reason}"
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio does: v4 and v6 bind separately
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return f"web.port {web.port} is in use on {web.host}"
                return f"web.host {web.host} cannot be bound: {exc.strerror or exc}"
    return None


@contextlib.asynccontextmanager
async def open_platforms(
    runtime: Runtime, core: Core, notifier: FanoutNotifier, *, chat: bool
) -> AsyncIterator[Platforms]:
    """Telegram and WeChat/WeCom as configured; the terminal when neither is."""
    settings = runtime.settings
    platforms = Platforms({"console": ConsoleSender()})
    async with AsyncExitStack() as stack:
        telegram = None
        if telegram_platform.configured(settings):
            # One Gate for pushes, replies and alerts: they spend the same token's limits.
            gate = Gate(RateLimits.from_settings(settings.delivery), time.monotonic, asyncio.sleep)
            platforms.gates["telegram"] = gate
            if settings.telegram.webhook_url:  # every instance serves the webhook
                if settings.telegram.webhook_secret is None and shared_database(settings):
                    log.warning(
                        "telegram.webhook_secret is not set: each instance on this database "
                        "registers a random secret of its own and refuses updates sent "
                        "with another's; set the same secret on every instance"
                    )
                telegram = await stack.enter_async_context(
                    TelegramPlatform(runtime, core, gate=gate)
                )
                bot = telegram.bot
            else:  # long polling is the leader's (a second poller gets 409 Conflict)
                bot = await stack.enter_async_context(gated_bot(settings, gate))
                platforms.leader_loops.append(
                    lambda term: poll_telegram(
                        lambda: TelegramPlatform(runtime, core, gate=gate), term
                    )
                )
            # Both share the bot's connection pool; the engine takes the gate's tokens itself.
            platforms.senders["telegram"] = TelegramSender(bot, gated=True)
            alerts = TelegramSender(bot)  # through the bot's rate limiter
            admins = settings.telegram.admins
            notifier.add(SenderNotifier(alerts, admins, TelegramRenderer()))
            polling = "" if telegram else " (long polling while leading)"
            platforms.description.append(f"telegram @{bot.username}{polling}")
        elif not carries_chat(settings):  # no chat platform at all: the terminal is one
            notifier.add(StreamNotifier(sys.stdout))
            await ensure_console_subscriber(runtime)
            if chat:
                platforms.loops.append(lambda stop: terminal_chat(core))
            platforms.description.append("terminal chat" if chat else "console deliveries")
        if web_service_wanted(settings):
            routes = (
                [telegram_route(telegram, settings)] if telegram and telegram.webhook_mode else []
            )
            web = await stack.enter_async_context(
                open_web_service(runtime, core, extra_routes=routes)
            )
            platforms.web = web
            platforms.senders.update(web.senders)  # WeCom's batches, the OA's campaigns
            platforms.loops.append(web.run)
            if web.serve_http:
                platforms.description.append(f"web {settings.web.host}:{settings.web.port}")
        yield platforms


def shared_database(settings: Settings) -> bool:
    """Whether other instances may share this one's database (PostgreSQL)."""
    return settings.storage.url.startswith("postgresql")  # config.py checked the URL


@asynccontextmanager
async def gated_bot(settings: Settings, gate: Gate) -> AsyncIterator[ExtBot[Any]]:
    """A bot of its own for pushes and alerts, through `gate`, while the polling platform
    comes and goes with leadership; started with getMe (a refused token stops `run`)."""
    telegram = settings.telegram
    assert telegram.token is not None  # configured(settings)
    request = AiohttpRequest(connection_pool_size=telegram.connection_pool)
    limiter = GateLimiter(gate, retry_margin=settings.delivery.retry_margin_seconds)
    bot: ExtBot[Any] = ExtBot(
        telegram.token.get_secret_value(),
        base_url=telegram.base_url,
        request=request,
        rate_limiter=limiter,
    )
    try:
        await bot.initialize()
        yield bot
    finally:
        await bot.shutdown()
        await request.shutdown()


async def poll_telegram(make: Callable[[], TelegramPlatform], term: asyncio.Event) -> None:
    """Telegram by long polling for one term of leadership; polling stops before the
    lock is let go, so two instances never poll at once."""
    async with make():
        await term.wait()


def telegram_route(telegram: TelegramPlatform, settings: Settings) -> Route:
    """Served at the path of `telegram.webhook_url` (a proxy may map it): what Telegram calls."""
    path = urlsplit(settings.telegram.webhook_url).path or WEBHOOK_PATH
    return webhook_route(telegram, path)


async def ensure_console_subscriber(runtime: Runtime) -> None:
    """The terminal is the embedded default's subscriber: to everything, the first time only."""
    async with runtime.sessions.begin() as session:
        subscriber, created = await get_or_create(
            session, CONSOLE_CHAT.platform, CONSOLE_CHAT.chat_id, kind=CONSOLE_CHAT.kind
        )
        if created:
            await add_subscription(session, subscriber.id, ALL)


async def terminal_chat(core: Core) -> None:
    await run_console(core, sys.stdin, sys.stdout)


async def serve(
    runtime: Runtime,
    cycle: Cycle,
    platforms: Platforms,
    notifier: FanoutNotifier,
    stop: asyncio.Event,
) -> int:
    """Delivery engine and platform loops until `stop`, and while this instance leads
    (bot/cluster) the scheduler and the leader loops; 1 if any loop failed. A failure of
    the leader's work (e.g. Telegram refusing the token) is raised."""
    if platforms.web is not None:
        await platforms.web.prepare()  # robot subscribers exist before the first publication
    cluster = runtime.settings.cluster
    member = Membership(runtime.sessions, cluster)
    member.on_live = GlobalShare(platforms.gates).apply  # 1/N of each token's global rate
    await member.join()
    engine = instance_engine(runtime, platforms, notifier, member)
    leadership = Leadership(runtime.engine, member, cluster)
    leading = asyncio.create_task(
        leadership.run(stop, lambda term: lead(cycle, platforms.leader_loops, term))
    )
    leading.add_done_callback(lambda _: stop.set())
    heartbeat = asyncio.create_task(member.run(), name="instance-heartbeat")
    # Joining others: push once they can have seen this instance and lowered their shares.
    hold = cluster.heartbeat_seconds + 1.0 if member.live > 1 else 0.0
    loops: list[Loop] = [partial(_after, hold, engine.run_forever), *platforms.loops]
    tasks = [asyncio.create_task(_until_stop(loop, stop)) for loop in loops]
    try:
        await stop.wait()
    finally:
        results = await asyncio.gather(leading, *tasks, return_exceptions=True)
        heartbeat.cancel()  # only now: the engine's claims are alive until it is done
        await asyncio.gather(heartbeat, return_exceptions=True)
        await member.leave()
    if isinstance(results[0], Exception):
        raise results[0]
    failed = [r for r in results if isinstance(r, BaseException)]
    return 1 if failed else 0


def instance_engine(
    runtime: Runtime,
    platforms: Platforms,
    notifier: AlertSink,
    member: Membership,
    tuning: EngineTuning | None = None,
) -> DeliveryEngine:
    """This instance's delivery engine: claims stamped with its id, and woken the moment
    its heartbeat hands a dead instance's claims back to pending. Without the wake, the
    idle poll (2 s) came on top of staleness (10 s) and the heartbeat (2 s): 14 s of the
    15 s in which a dead instance's work must be resent. A callback, so that cluster code
    knows nothing of the engine."""
    engine = DeliveryEngine(
        runtime.sessions,
        platforms.senders,
        runtime.settings.delivery,
        notifier=notifier,
        gates=platforms.gates,
        claimant=member.id,
        tuning=tuning,
        corrections=CorrectionTerms.from_settings(runtime.settings.publish),
    )
    member.on_requeue = engine.wake
    return engine


async def _after(delay: float, loop: Loop, stop: asyncio.Event) -> object:
    """`loop` after `delay` seconds, unless stopped first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
    return None if stop.is_set() else await loop(stop)


async def lead(cycle: Cycle, loops: list[Loop], term: asyncio.Event) -> None:
    """The leader's work for one term: the scheduler's jobs and the leader loops."""
    scheduler = build_scheduler(cycle)
    scheduler.start()  # the start-up job polls and catches up on missed publications
    end = asyncio.Event()  # the term's end, or a leader loop's
    tasks = [asyncio.create_task(_until_stop(loop, end)) for loop in loops]
    try:
        await _first(term.wait(), end.wait())
    finally:
        end.set()
        scheduler.pause()  # no new jobs; the running ones finish (shutdown would cancel them)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(cycle.wait_idle(), JOB_GRACE_SECONDS)
        scheduler.shutdown(wait=False)
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result


async def _first(*waits: Awaitable[object]) -> None:
    """Until the first of `waits` is done."""
    pending = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _until_stop(loop: Loop, stop: asyncio.Event) -> None:
    """Run one loop; when it ends, for any reason, the whole job stops (a supervisor restarts)."""
    try:
        await loop(stop)
    except Exception:
        log.exception("%s failed; stopping", getattr(loop, "__qualname__", loop))
        raise
    finally:
        stop.set()


# --- one-shot delivery (`tick --deliver`, `publish --deliver`) ---------------------------


@asynccontextmanager
async def delivery_senders(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """The engine's senders outside `run`: Telegram when configured, and the console (stdout).

    Deliveries of platforms without a sender stay pending for a process that has one
    (WeChat and WeCom deliveries: `bot.web.service.push_once`).
    """
    async with AsyncExitStack() as stack:
        senders: dict[str, Sender] = {"console": ConsoleSender()}
        if telegram_platform.configured(settings):
            senders["telegram"] = await stack.enter_async_context(
                TelegramSender.from_settings(settings.telegram)
            )
        yield senders


async def drain_configured(
    runtime: Runtime, *, notifier: AlertSink | None = None, tuning: EngineTuning | None = None
) -> DrainReport:
    """Send every pending delivery that this configuration has a sender for, as a
    short-lived instance (its claims live by its heartbeat, like `run`'s). Beside running
    instances it takes its share of the token's global rate, as they do (share.py)."""
    settings = runtime.settings
    async with (
        delivery_senders(settings) as senders,
        short_lived(runtime.sessions, settings.cluster) as member,
    ):
        limits = RateLimits.from_settings(settings.delivery)
        gates = {name: Gate(limits, time.monotonic, asyncio.sleep) for name in senders}
        gates.pop("console", None)  # the terminal has no limits
        share = GlobalShare(gates)
        share.apply(member.live)
        member.on_live = share.apply
        if member.live > 1:  # let the others see this instance and lower their shares first
            await asyncio.sleep(settings.cluster.heartbeat_seconds + 1.0)
        return await drain(
            runtime, senders, notifier=notifier, tuning=tuning, gates=gates, claimant=member.id
        )
