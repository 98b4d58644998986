"""Delivery: drain persisted per-subscriber deliveries through platform senders.

engine = DeliveryEngine(runtime.sessions, {"telegram": sender}, settings.delivery)
await engine.run_until_idle()          # or: await engine.run_forever(stop_event)
report = await drain(runtime, senders)  # the same, until nothing is pending
"""

from bot.delivery.drain import drain
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.ratelimit import RateLimits
from bot.delivery.report import DrainReport

__all__ = [
    "DeliveryEngine",
    "DrainReport",
    "EngineTuning",
    "RateLimits",
    "drain",
]
