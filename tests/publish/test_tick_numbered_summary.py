"""`briefbot tick` names an undated issue it published by its series and number (never
by a database id); a dated one by its date, as before. Both databases."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from bot.cli import publishing
from bot.config import Settings
from bot.runtime import open_runtime
from tests.conftest import ROOT
from tests.publish.helpers import add_subscriber

WIDGET_FILES = ROOT / "examples" / "two-series" / "widgets"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot")
    publishing.register(parser.add_subparsers(dest="command", required=True))
    return parser


async def _tick(settings: Settings, now: str, capsys: pytest.CaptureFixture[str]) -> str:
    args = _parser().parse_args(["tick", "--now", now])
    async with open_runtime(settings) as runtime:
        assert await args.handler(args, runtime) == 0
    return capsys.readouterr().out


async def test_tick_names_an_undated_issue_by_series_and_number(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "widgets"
    shutil.copytree(WIDGET_FILES, folder)  # #50 and #51, neither dated
    settings = Settings.model_validate(
        {
            "storage": {"url": db_url},
            "publish": {"settle_minutes": 0},
            "series": {"slug": "widgets", "title": "Widgets", "layout": "this-week-in"},
            "sources": [{"kind": "folder", "name": "w", "path": str(folder)}],
        }
    )
    async with open_runtime(settings) as runtime:
        await add_subscriber(runtime, "console:local")
    first = await _tick(settings, "2026-11-20T12:00", capsys)
    assert "w: 2 fetched, 2 added" in first and "published: none" in first  # first seen now
    out = await _tick(settings, "2026-11-21T12:00", capsys)  # the next day's slot
    assert "published: widgets #51; archived: #50;" in out
    assert "issue " not in out.lower()
