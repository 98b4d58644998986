"""Addresses of the public web archive's pages (pure, so renderers and commands share them).

The paths are the stable ones bot/web/pages.py serves: `/<series>/<YYYY-MM-DD>` for an
issue, `/<series>/<number>` for an undated issue of a numbered series. `public_url` is
`[web] public_url` (no trailing slash needed); empty means the site has no public address,
and there is no link to give.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote


def issue_path(series: str, key: date | int) -> str:
    ref = key.isoformat() if isinstance(key, date) else str(key)
    return f"/{quote(series, safe='')}/{ref}"


def web_ref(key: date | None, number: int | None) -> date | int:
    """What names an issue's page: its date, else (an undated numbered issue) its number."""
    if key is not None:
        return key
    if number is None:
        raise ValueError("an issue without a date or a number has no page")
    return number


def issue_label(key: date | None, number: int | None) -> str:
    """How a page names an issue: its date, or `#51` without one."""
    return key.isoformat() if key is not None else f"#{number}"


def issue_url(public_url: str, series: str, key: date | int) -> str | None:
    """The "read on the web" link of an issue, or None when no public address is set."""
    if not public_url:
        return None
    return public_url.rstrip("/") + issue_path(series, key)
