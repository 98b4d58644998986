"""Per-subscriber deliveries of an issue: the outbox the delivery engine drains.

  writes   the send path: create (renderings stored once), claim, checkpoint, requeue, drop
  status   read-only reports: counts and progress per issue and platform

Importers name the module they use; this package re-exports both for
`from storage import deliveries` callers.
"""

from storage.deliveries.status import (
    IssueDeliveries,
    PlatformProgress,
    delivery_progress,
    issues_with_deliveries,
    status_counts,
)
from storage.deliveries.writes import (
    INACTIVE_REASON,
    AlreadyPublished,
    Checkpoint,
    ClaimedDelivery,
    CreateResult,
    DeliveryItem,
    Progress,
    claim_for_sending,
    create_deliveries,
    drop_pending_of_subscriber,
    load_renderings,
    record_claimed_progress,
    requeue_stale,
    touch_claimed,
)

__all__ = [
    "INACTIVE_REASON",
    "AlreadyPublished",
    "Checkpoint",
    "ClaimedDelivery",
    "CreateResult",
    "DeliveryItem",
    "IssueDeliveries",
    "PlatformProgress",
    "Progress",
    "claim_for_sending",
    "create_deliveries",
    "delivery_progress",
    "drop_pending_of_subscriber",
    "issues_with_deliveries",
    "load_renderings",
    "record_claimed_progress",
    "requeue_stale",
    "status_counts",
    "touch_claimed",
]
