"""WeChat state kept in app_state: access tokens and the mass-send ledger.

The mass-send ledger has one key per (issue, part): a part is claimed as `sending` together
with a reservation of that China day's mass-send quota, in one transaction, before the API
call, and marked `sent` after it. A restart finds `sending` parts and resends them with the
same `clientmsgid`, which WeChat answers with 45065 if the first call went through.

Several instances (bot/cluster): an issue's campaign is run by the one instance holding
the claim of its deliveries (storage.deliveries.campaigns, requeued when that instance's
heartbeat lapses). `claim_part` is safe under concurrency besides: on PostgreSQL it
serialises on the part (a transaction-level advisory lock) and on the day's quota row
(created first, then locked), so two claims can neither both see a part unclaimed nor
both count the same unit of quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import dialect_name, insert
from storage.clock import utcnow
from storage.models import AppStateRow
from storage.state import get_value, set_value

PartStatus = Literal["sending", "sent", "failed", "deferred"]
CHAT_CHUNK = 500  # chat ids per IN (...) list
Claim = Literal["go", "resume", "done", "no_quota"]


# --- access tokens -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CachedToken:
    token: str
    expires_at: float  # unix time


def token_key(name: str) -> str:
    return f"wechat.token.{name}"


async def get_token(session: AsyncSession, name: str) -> CachedToken | None:
    value = await get_value(session, token_key(name))
    if not isinstance(value, dict) or not value.get("token"):
        return None
    return CachedToken(str(value["token"]), float(value.get("expires_at", 0)))


async def save_token(
    session: AsyncSession, name: str, token: CachedToken, now: datetime | None = None
) -> None:
    value = {"token": token.token, "expires_at": token.expires_at}
    await set_value(session, token_key(name), value, now)


# --- mass-send ledger ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartRecord:
    status: PartStatus
    day: str  # the China day whose quota the send used (or will use)
    tag_id: int
    client_msg_id: str
    msg_id: int | None = None
    detail: str = ""
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "day": self.day,
            "tag_id": self.tag_id,
            "client_msg_id": self.client_msg_id,
            "msg_id": self.msg_id,
            "detail": self.detail,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PartRecord:
        return cls(
            status=value["status"],
            day=str(value.get("day", "")),
            tag_id=int(value.get("tag_id", 0)),
            client_msg_id=str(value.get("client_msg_id", "")),
            msg_id=value.get("msg_id"),
            detail=str(value.get("detail", "")),
            at=str(value.get("at", "")),
        )


def part_key(issue_id: int, part: str) -> str:
    return f"wechat.mass.{issue_id}.{part}"


def quota_key(app_id: str, day: str) -> str:
    return f"wechat.mass_quota.{app_id}.{day}"


async def get_part(session: AsyncSession, issue_id: int, part: str) -> PartRecord | None:
    value = await get_value(session, part_key(issue_id, part))
    return PartRecord.from_json(value) if isinstance(value, dict) else None


async def campaign_parts(session: AsyncSession, issue_id: int) -> dict[str, PartRecord]:
    """Every ledger record of the issue's campaign, by part."""
    prefix = part_key(issue_id, "")
    result = await session.execute(
        select(AppStateRow.key, AppStateRow.value).where(AppStateRow.key.startswith(prefix))
    )
    return {key[len(prefix) :]: PartRecord.from_json(value) for key, value in result}


async def mass_sends_on(session: AsyncSession, app_id: str, day: str) -> int:
    """Mass sends counted against `day`'s quota."""
    return int(await get_value(session, quota_key(app_id, day), 0) or 0)


LEDGER_LOCKS = 0x57C5  # advisory lock class of the ledger's parts (two-int keyspace)


async def _locked_value(session: AsyncSession, key: str, default: Any) -> Any:
    """Read `key` for update. The row is created first when missing (PostgreSQL: a
    concurrent creator waits on the unique key, then both lock the same row); SQLite
    serialises writers anyway."""
    await session.execute(
        insert(session, AppStateRow)
        .values(key=key, value=default, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = await session.execute(
        select(AppStateRow.value).where(AppStateRow.key == key).with_for_update()
    )
    found = row.one_or_none()
    return default if found is None or found[0] is None else found[0]


async def _lock_part(session: AsyncSession, key: str) -> None:
    """Hold the part's lock until the transaction ends (PostgreSQL; SQLite: one writer)."""
    if dialect_name(session) == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCKS, func.hashtext(key))))


async def claim_part(
    session: AsyncSession,
    app_id: str,
    issue_id: int,
    part: str,
    *,
    tag_id: int,
    client_msg_id: str,
    day: str,
    quota: int,
    now: datetime | None = None,
) -> Claim:
    """Decide and record, before sending, whether the part may be mass-sent now.

    done: already sent (or given up); resume: claimed earlier (a crash or a transient
    error) and today's quota already counts it; go: claimed now, one send of `day`'s
    quota reserved; no_quota: `day`'s quota is used up, nothing recorded.
    """
    now = now or utcnow()
    await _lock_part(session, part_key(issue_id, part))
    record = await get_part(session, issue_id, part)  # read under the lock: the latest
    if record is not None and record.status in ("sent", "failed"):
        return "done"
    if record is not None and record.status == "sending" and record.day == day:
        return "resume"
    used = int(await _locked_value(session, quota_key(app_id, day), 0) or 0)
    if used >= quota:
        return "no_quota"
    await set_value(session, quota_key(app_id, day), used + 1, now)
    claimed = PartRecord("sending", day, tag_id, client_msg_id, at=now.isoformat())
    await set_value(session, part_key(issue_id, part), claimed.to_json(), now)
    return "resume" if record is not None and record.status == "sending" else "go"


async def finish_part(
    session: AsyncSession,
    issue_id: int,
    part: str,
    status: PartStatus,
    *,
    msg_id: int | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    record = await get_part(session, issue_id, part)
    if record is None:
        raise LookupError(f"no ledger record for issue {issue_id} part {part!r}")
    done = PartRecord(
        status, record.day, record.tag_id, record.client_msg_id, msg_id, detail, now.isoformat()
    )
    await set_value(session, part_key(issue_id, part), done.to_json(), now)


async def exhaust_quota(
    session: AsyncSession, app_id: str, day: str, quota: int, now: datetime | None = None
) -> None:
    """WeChat said the quota is gone (45028): count `day` as used up."""
    await set_value(session, quota_key(app_id, day), max(quota, 1), now)
