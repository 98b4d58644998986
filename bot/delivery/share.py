"""One bot token's global rate shared among the instances pushing with it.

Every instance keeps the global bucket of its Gate at 1/N of the token's limit (rate
and burst), N being the instances alive in the instances table, refreshed with each
heartbeat (bot/cluster/membership.py). Chat buckets are not split: one chat's delivery
is sent by one instance at a time.

Why a split rather than a shared rate row (a PostgreSQL row every send takes its token
from): the split costs no database round trip per message and keeps sending when the
database is slow, and it is sound with the bucket arithmetic of ratelimit.py, since N
shares of (R/N, S/N) add up to (R, S). The shares hold once every instance has seen the
same N: a newcomer waits one heartbeat before pushing (bot/app.py), so that the others
have lowered their shares first; when an instance dies, the survivors take up its share
only once its heartbeat is stale (the slow, safe direction). The price: an instance with
nothing to send leaves its share unused. During a push every instance claims deliveries
(SKIP LOCKED), so all of them push and the whole rate is used, except in the tail of a
push and for command replies, which get their instance's share.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.delivery.ratelimit import Gate


class GlobalShare:
    """Sets the global share of every gate in `gates` to this instance's (Gate.set_share)."""

    def __init__(self, gates: Mapping[str, Gate]) -> None:
        self._gates = dict(gates)
        self.instances = 1

    def apply(self, instances: int) -> None:
        """This instance's share when `instances` instances (itself included) are alive."""
        instances = max(1, instances)
        if instances == self.instances:
            return
        for gate in self._gates.values():
            gate.set_share(instances)
        self.instances = instances
