"""Delivery: drain persisted per-subscriber deliveries through platform senders.

engine = DeliveryEngine(runtime.sessions, {"telegram": sender}, settings.delivery)
await engine.run_until_idle()          # or: await engine.run_forever(stop_event)
report = await drain(runtime)          # the same, with the configured senders
"""

from bot.delivery.drain import default_senders, drain
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.ratelimit import RateLimits
from bot.delivery.report import DrainReport

__all__ = [
    "DeliveryEngine",
    "DrainReport",
    "EngineTuning",
    "RateLimits",
    "default_senders",
    "drain",
]
