"""Shared pieces of the sub-commands: handler type, output helpers, issue-key parsing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime import Runtime

Handler = Callable[[argparse.Namespace, Runtime], Awaitable[int]]
Subparsers = Any  # argparse's _SubParsersAction is private


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def fail(message: str, code: int = 1) -> int:
    print(f"briefbot: {message}", file=sys.stderr)
    return code


def issue_key(text: str) -> date | None:
    """`latest` -> None; otherwise an ISO date, or argparse's error."""
    if text == "latest":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or 'latest', got {text!r}") from None


def parse_moment(text: str, timezone: str) -> datetime:
    """An ISO-8601 time; without an offset it is local to `timezone` (ValueError if bad)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))
