"""SIGKILL the delivery process mid-push, again and again, then let a run finish: one suite
for the one engine (bot/delivery/engine.py has the reasoning), over the sender shapes.

* single (Telegram, one message per call): every chat got every message, in order; a
  repeat is the message in flight at a kill, at most one per kill per chat and one per
  sending slot per kill overall.
* batch (WeCom app members, one call to up to 1000 members): members got every message
  exactly once, in order (the fake's duplicate check absorbed the batches resent after a
  kill: at most one per kill per member); robots (no duplicate check, sent at most once)
  got every message at most once, in order, and lost nothing but messages a later run
  announced as ambiguous: at most one per kill.
* campaign (Official Account mass sends by tag): every tag got its part exactly once,
  resends refused by `clientmsgid` (45065), at most one per kill.

Every shape ends with all its deliveries 'sent'. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.platforms.wecom.robots import robot_chat_id
from bot.runtime import Runtime
from briefings.model import Series
from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscription
from tests.delivery import crash
from tests.delivery.crash import KillPlan, WechatFake
from tests.delivery.crash_worker import wechat_settings
from tests.delivery.helpers import FAST, SERVER_LIMITS, Sessions, counts, seed
from tests.fakes.telegram_fixtures import ServerFactory
from tests.wechat.seeding import markdown_messages, seed_deliveries

LATENCY = 0.02  # seconds the WeChat fake holds every call: kills often land mid-call
CHATS = 300
ROBOTS = [f"00000000-fake-crash-robot-{n:08d}" for n in range(3)]
ROBOT_MESSAGES = 8
MEMBER_RENDERINGS = {"r3": 3, "r4": 4, "r5": 5, "r6": 6}  # rendering -> its messages
MEMBERS = {f"member{n:02d}": f"r{3 + n % 4}" for n in range(36)}
PAPERS = Subscription("section", "papers")
FOLLOWERS: dict[str, tuple[Subscription, ...]] = {
    "o-all-1": (ALL,),
    "o-all-2": (ALL,),
    "o-papers": (PAPERS,),
    "o-papers-quant": (PAPERS, Subscription("topic", "quantization")),
    "o-chips": (Subscription("topic", "chips"),),
    "o-news": (Subscription("section", "news"),),
    "o-projects": (Subscription("section", "projects"), Subscription("topic", "inference")),
    "o-compression": (Subscription("topic", "compression"),),
}
AUDIENCES = {  # the tag parts the sample issue has for them, and who is in each
    "all": {"o-all-1", "o-all-2"},
    "section:papers": {"o-papers", "o-papers-quant"},
    "section:news": {"o-news"},
    "section:projects": {"o-projects"},
    "topic:chips": {"o-chips"},
    "topic:quantization": {"o-papers-quant"},
    "topic:inference": {"o-projects"},
    "topic:compression": {"o-compression"},
}


@dataclass
class Shape:
    """One sender shape's run: how a worker starts, what progress is, what must hold."""

    plan: KillPlan
    start: Callable[[], Awaitable[asyncio.subprocess.Process]]
    progress: Callable[[], Awaitable[int]]
    check: Callable[[str], Awaitable[None]]


def runtime_for(engine: AsyncEngine, sessions: Sessions, fake: WechatFake, db_url: str) -> Runtime:
    settings = wechat_settings(db_url, fake.mp_url, fake.wecom_url, ROBOTS)
    return Runtime(
        settings, engine, sessions, Series("embedded-ai", "嵌入式AI简报"), Taxonomy.default()
    )


@asynccontextmanager
async def single(
    sessions: Sessions, db_url: str, log: Path, servers: ServerFactory
) -> AsyncIterator[Shape]:
    server = await servers(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, CHATS)
    plan = KillPlan(kills=5, step=(40, 40), pause=0.3)  # a few dozen messages, then any time

    async def progress() -> int:
        return len(server.messages)

    async def check(_log: str) -> None:
        received: dict[int, list[str]] = defaultdict(list)
        for message in server.messages:
            received[message.chat_id].append(message.text)
        repeats = crash.assert_in_order(received, seeded.expected, plan.kills)
        assert sum(repeats.values()) <= plan.kills * FAST.workers, _log  # one per slot
        assert (await counts(sessions, seeded.issue_id))["sent"] == CHATS

    args = ["telegram", db_url, server.base_url, server.token]
    yield Shape(plan, lambda: crash.spawn(args, log), progress, check)


@asynccontextmanager
async def batch(
    engine: AsyncEngine, sessions: Sessions, db_url: str, log: Path, tmp_path: Path
) -> AsyncIterator[Shape]:
    async with crash.wechat_fake(tmp_path, LATENCY, [], list(MEMBERS), ROBOTS) as fake:
        runtime = runtime_for(engine, sessions, fake, db_url)
        issue_id = await crash.save_sample_issue(runtime)
        renderings = {key: markdown_messages(key, n) for key, n in MEMBER_RENDERINGS.items()}
        chats = {userid: (key, renderings[key]) for userid, key in MEMBERS.items()}
        robots = {robot_chat_id(k): (k, markdown_messages(k[-2:], ROBOT_MESSAGES)) for k in ROBOTS}
        expected = await seed_deliveries(sessions, issue_id, "wecom", chats | robots)
        plan = KillPlan(kills=5, step=(1, 3), pause=2 * LATENCY)

        async def check(log_text: str) -> None:
            app = await fake.messages("app")
            members = crash.by_chat(app)
            for userid in MEMBERS:
                assert members[userid] == expected[userid], userid  # exactly once, in order
            # A kill repeats at most the batch in flight; the duplicate check absorbed it.
            resent = Counter(u for m in app for u in m["meta"]["duplicates"])
            assert max(resent.values(), default=0) <= plan.kills
            posted = crash.by_chat(await fake.messages("robot"))
            warnings = crash.announced(log_text)
            for key in ROBOTS:
                chat = robot_chat_id(key)
                crash.assert_at_most_once(posted[key], expected[chat], warnings[chat], plan.kills)
            assert set(warnings) <= {robot_chat_id(k) for k in ROBOTS}
            sent = (await counts(sessions, issue_id, "wecom"))["sent"]
            assert sent == len(MEMBERS) + len(ROBOTS)

        args = ["wechat", db_url, fake.mp_url, fake.wecom_url, *ROBOTS]
        yield Shape(plan, lambda: crash.spawn(args, log), fake.sends, check)


@asynccontextmanager
async def campaign(
    engine: AsyncEngine, sessions: Sessions, db_url: str, log: Path, tmp_path: Path
) -> AsyncIterator[Shape]:
    async with crash.wechat_fake(tmp_path, LATENCY, list(FOLLOWERS), [], []) as fake:
        runtime = runtime_for(engine, sessions, fake, db_url)
        issue_id = await crash.save_sample_issue(runtime)
        await crash.seed_followers(runtime, issue_id, FOLLOWERS)
        plan = KillPlan(kills=4, step=(1, 1), pause=2 * LATENCY)  # 8 parts: kill after each 1

        async def check(_log: str) -> None:
            await crash.assert_one_mass_send_per_tag(fake, AUDIENCES, plan.kills)
            assert (await counts(sessions, issue_id, "wechat"))["sent"] == len(FOLLOWERS)

        args = ["wechat", db_url, fake.mp_url, fake.wecom_url]
        yield Shape(plan, lambda: crash.spawn(args, log), fake.sends, check)


@pytest.mark.parametrize("shape", ["single", "batch", "campaign"])
async def test_killed_runs_lose_nothing_and_repeat_at_most_what_was_in_flight(
    shape: str,
    engine: AsyncEngine,
    sessions: Sessions,
    db_url: str,
    telegram_server_factory: ServerFactory,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    if shape == "single":
        opened = single(sessions, db_url, log, telegram_server_factory)
    else:
        opened = (batch if shape == "batch" else campaign)(engine, sessions, db_url, log, tmp_path)
    async with opened as run:
        await crash.kill_and_finish(run.start, run.progress, run.plan, random.Random(7), log)
        await run.check(log.read_text())
