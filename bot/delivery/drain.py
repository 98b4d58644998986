"""One-shot delivery for `briefbot tick --deliver`: send everything pending, then return.

Which senders exist is the composition root's business (`bot.app.drain_configured`);
this module knows only the platform-neutral `Sender` contract.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.delivery.correction_terms import CorrectionTerms
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.ratelimit import Gate
from bot.delivery.report import DrainReport
from bot.delivery.types import AlertSink, Sender
from bot.runtime import Runtime


async def drain(
    runtime: Runtime,
    senders: Mapping[str, Sender],
    *,
    notifier: AlertSink | None = None,
    tuning: EngineTuning | None = None,
    gates: Mapping[str, Gate] | None = None,
    claimant: str | None = None,
) -> DrainReport:
    """Send every pending delivery of the platforms in `senders`; the others stay pending.
    `gates`: platforms' gates built by the caller (e.g. kept at this instance's share);
    `claimant`: the instance the claims are made as (bot.cluster.membership.short_lived)."""
    engine = DeliveryEngine(
        runtime.sessions,
        senders,
        runtime.settings.delivery,
        notifier=notifier,
        tuning=tuning,
        gates=gates,
        claimant=claimant,
        corrections=CorrectionTerms.from_settings(runtime.settings.publish),
    )
    return await engine.run_until_idle()
