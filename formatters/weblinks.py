"""Addresses of the public web archive's pages (pure, so renderers and commands share them).

The paths are the stable ones bot/web/pages.py serves: `/<series>/<YYYY-MM-DD>` for an
issue. `public_url` is `[web] public_url` (no trailing slash needed); empty means the site
has no public address, and there is no link to give.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote


def issue_path(series: str, key: date) -> str:
    return f"/{quote(series, safe='')}/{key.isoformat()}"


def issue_url(public_url: str, series: str, key: date) -> str | None:
    """The "read on the web" link of an issue, or None when no public address is set."""
    if not public_url:
        return None
    return public_url.rstrip("/") + issue_path(series, key)
