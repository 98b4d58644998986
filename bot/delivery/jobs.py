"""One claimed delivery in memory, and the cache of the messages it shares with others."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.types import StoredMessage
from storage.corrections import ClaimedCorrection
from storage.deliveries.campaigns import ClaimedCampaign
from storage.deliveries.writes import ClaimedDelivery, load_renderings


@dataclass(slots=True)
class Job:
    id: int
    issue_id: int
    subscriber_id: int
    platform: str
    chat_id: str
    attempts: int  # the claim's fencing token
    messages: Sequence[StoredMessage]
    sent: int  # index of the next message; the persisted checkpoint once acknowledged
    busy: bool = False  # a send or a final write is under way: let it finish
    kind: str = "delivery"  # or 'correction' (storage.corrections): which outbox row
    rendering_id: int | None = None  # deliveries sharing it (and `sent`) may share calls
    campaign: ClaimedCampaign | None = None  # kind 'campaign': the issue's rows claimed

    @property
    def key(self) -> tuple[str, int]:
        """Ids are per outbox: a delivery and a correction may share one (a campaign's id
        is its issue's)."""
        return (self.kind, self.id)

    @classmethod
    def from_claim(cls, claim: ClaimedDelivery, messages: Sequence[StoredMessage]) -> Job:
        return cls(
            id=claim.id,
            issue_id=claim.issue_id,
            subscriber_id=claim.subscriber_id,
            platform=claim.platform,
            chat_id=claim.chat_id,
            attempts=claim.attempts,
            messages=messages,
            sent=min(claim.messages_sent, len(messages)),
            rendering_id=claim.rendering_id,
        )

    @classmethod
    def from_correction(cls, claim: ClaimedCorrection) -> Job:
        return cls(
            id=claim.id,
            issue_id=claim.issue_id,
            subscriber_id=claim.subscriber_id,
            platform=claim.platform,
            chat_id=claim.chat_id,
            attempts=claim.attempts,
            messages=tuple(claim.operations),
            sent=min(claim.messages_sent, len(claim.operations)),
            kind="correction",
        )

    @property
    def done(self) -> bool:
        return self.sent >= len(self.messages)


class RenderingCache:
    """Messages by rendering id, least recently used evicted; shared by many jobs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], size: int) -> None:
        self._sessions = sessions
        self._size = size
        self._cache: OrderedDict[int, Sequence[StoredMessage]] = OrderedDict()

    async def messages_for(
        self, claims: Iterable[ClaimedDelivery]
    ) -> dict[int, Sequence[StoredMessage]]:
        wanted = {c.rendering_id for c in claims}
        missing = wanted.difference(self._cache)
        if missing:
            async with self._sessions() as session:
                loaded = await load_renderings(session, missing)
            for rendering_id, messages in loaded.items():
                self._cache[rendering_id] = tuple(messages)
        found = {}
        for rendering_id in wanted:
            if rendering_id in self._cache:
                self._cache.move_to_end(rendering_id)
                found[rendering_id] = self._cache[rendering_id]
        while len(self._cache) > max(self._size, len(wanted)):
            self._cache.popitem(last=False)
        return found
