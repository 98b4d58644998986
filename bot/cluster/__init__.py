"""Several `briefbot run` instances on one database: membership and leadership.

    member = Membership(runtime.sessions, settings.cluster)   # id, heartbeat, requeue
    leadership = Leadership(runtime.engine, member, settings.cluster)
    await leadership.run(stop, lead)   # `lead(term)` runs while this instance leads

Every instance delivers (claims are stamped with its id and outlive its heartbeat by
`stale_seconds` at most); one leads (PostgreSQL advisory lock; on SQLite, the only one).
"""

from bot.cluster.leader import Leadership
from bot.cluster.membership import Membership

__all__ = ["Leadership", "Membership"]
