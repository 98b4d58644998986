"""A delivery process for the crash test: drains until no delivery is left unfinished.

    python -m tests.delivery.drain_worker DB_URL BASE_URL TOKEN

Like `briefbot tick --deliver` in a loop: the parent SIGKILLs it at random moments
and starts it again; rows a killed run left 'sending' are requeued once stale.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.delivery import DeliveryEngine, EngineTuning
from bot.platforms.telegram.sender import TelegramSender
from storage import deliveries
from storage.db import create_engine, session_factory
from tests.delivery.helpers import CLIENT_LIMITS, FAST

STALE_AFTER = 1.0  # a killed run's rows are taken over after this long


async def unfinished(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        issue_ids = await deliveries.issues_with_deliveries(session)
    return sum(i.unfinished for i in issue_ids)


async def main(db_url: str, base_url: str, token: str) -> int:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    tuning = EngineTuning(stale_after=STALE_AFTER, backoff_base=0.05, idle_poll=0.1)
    try:
        async with TelegramSender.open(token, base_url, read_timeout=2.0) as sender:
            delivery = DeliveryEngine(
                sessions, {"telegram": sender}, FAST, limits={"telegram": CLIENT_LIMITS},
                tuning=tuning,
            )  # fmt: skip
            while await unfinished(sessions):
                await delivery.run_until_idle()
                await asyncio.sleep(0.1)  # a dead run's rows: wait until they go stale
        print(delivery.report, flush=True)
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
