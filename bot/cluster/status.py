"""The instances part of `briefbot status`: who runs, how fresh each heartbeat is, who leads."""

from __future__ import annotations

from typing import Any

from storage.instances import InstanceStatus


def leader_of(instances: list[InstanceStatus]) -> InstanceStatus | None:
    return next((i for i in instances if i.leader), None)


def render(instances: list[InstanceStatus]) -> str:
    if not instances:
        return "instances: none running"
    alive = sum(i.alive for i in instances)
    leader = leader_of(instances)
    leads = f"leader {leader.id[:8]}" if leader else "no leader"
    lines = [f"instances: {alive} alive, {leads}"]
    for i in instances:
        role = "leader" if i.leader else ("standby" if i.alive else "DEAD")
        lines.append(
            f"  {i.id[:8]}  {role:<8}{i.host} pid {i.pid}  "
            f"heartbeat {i.heartbeat_age:.1f} s ago  started {i.started_at:%Y-%m-%d %H:%M:%S}Z"
        )
    return "\n".join(lines)


def to_json(instances: list[InstanceStatus]) -> dict[str, Any]:
    leader = leader_of(instances)
    return {
        "leader": leader.id if leader else None,
        "instances": [
            {
                "id": i.id,
                "host": i.host,
                "pid": i.pid,
                "started_at": i.started_at.isoformat(),
                "heartbeat_at": i.heartbeat_at.isoformat(),
                "heartbeat_age_seconds": round(i.heartbeat_age, 3),
                "alive": i.alive,
                "leader": i.leader,
            }
            for i in instances
        ],
    }
