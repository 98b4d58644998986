"""Domain objects as JSON-ready dicts for the command line's `--json` output (scripts depend on
these keys)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from briefings.model import Issue


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    data = to_jsonable(issue)
    data["series"] = issue.series.slug
    data["entry_count"] = issue.entry_count
    return data
