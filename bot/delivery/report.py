"""What a delivery run did, counted as it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DrainReport:
    messages_sent: int = 0  # accepted by the platform (a batch call: one per chat it reached)
    calls: int = 0  # send calls the platform accepted (a batch call is one)
    deliveries_sent: int = 0  # every message of the delivery sent
    deliveries_failed: int = 0  # given up: permanent error or retries exhausted
    deliveries_dropped: int = 0  # chat gone (subscriber deactivated) or inactive
    deliveries_released: int = 0  # handed back to pending: issue paused, engine stopping
    deliveries_lost: int = 0  # re-claimed by another process meanwhile
    retries: int = 0  # transient errors retried
    rate_limited: int = 0  # 429 / RetryAfter answers
    migrated: int = 0  # chats that changed id
    requeued: int = 0  # stale deliveries of dead processes returned to pending
    paused_issues: list[int] = field(default_factory=list)  # by an error burst
    campaigns: list[Any] = field(default_factory=list)  # campaign senders' own reports
    errors: list[str] = field(default_factory=list)  # failures work was put off for (redacted)
    elapsed: float = 0.0
    commits: int = 0  # checkpoint transactions

    @property
    def rate(self) -> float:
        return self.messages_sent / self.elapsed if self.elapsed > 0 else 0.0

    def __str__(self) -> str:
        parts = [
            f"delivery: {self.messages_sent} messages in {self.elapsed:.1f}s "
            f"({self.rate:.1f}/s); deliveries {self.deliveries_sent} sent, "
            f"{self.deliveries_failed} failed, {self.deliveries_dropped} dropped"
        ]
        extras = {
            "released": self.deliveries_released,
            "lost": self.deliveries_lost,
            "retries": self.retries,
            "flood waits": self.rate_limited,
            "migrated": self.migrated,
            "requeued": self.requeued,
        }
        parts += [f"{value} {name}" for name, value in extras.items() if value]
        if self.paused_issues:
            parts.append("PAUSED issue(s) " + ", ".join(map(str, self.paused_issues)))
        parts += [f"FAILED {error}" for error in self.errors]
        return "; ".join(parts)
