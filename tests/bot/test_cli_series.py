"""The command line with several series: `--series SLUG` points archive commands at one
series (ingest with its layout, issues, show), `subscribers add --series` subscribes to
it; without it commands work on the first series as before. Both databases."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bot.conftest import Cli
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "two-series.toml"


def _config(tmp_path: Path) -> str:
    """The two-series example, its issue folders beside it, the archive from the env."""
    shutil.copytree(EXAMPLE.parent / "two-series", tmp_path / "two-series")
    config = tmp_path / "two.toml"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    config.write_text("\n".join(x for x in lines if not x.startswith("url =")), encoding="utf-8")
    return str(config)


def test_series_option_points_archive_commands_at_one_series(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path)
    widgets = str(tmp_path / "two-series" / "widgets")
    code, out, _ = cli("--config", config, "--series", "widgets", "ingest", widgets)
    assert code == 0 and "2 added" in out
    code, out, _ = cli("--config", config, "--series", "widgets", "issues")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["#51", "#50"]
    code, out, _ = cli("--config", config, "--series", "widgets", "show", "latest")
    assert code == 0 and out.startswith("This Week in Widgets #51  [#51]")
    code, out, _ = cli("--config", config, "issues")  # the first series: nothing yet
    assert code == 0 and "#51" not in out
    code, _, err = cli("--config", config, "--series", "nope", "issues")
    assert code == 2 and "--series: no series 'nope'; configured: embedded-ai, widgets" in err


def test_subscribers_add_takes_a_series(cli: Cli, tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path)
    code, out, _ = cli(
        "--config", config, "subscribers", "add", "telegram:5", "--series", "widgets"
    )
    assert (code, out.strip()) == (0, "added telegram:5 (widgets): all")
    code, out, _ = cli(
        "--config", config, "subscribers", "add", "telegram:5", "--series", "widgets",
        "--topics", "releases",
    )  # fmt: skip
    assert code == 0 and "topic:releases" in out  # the series' own topics
    code, _, err = cli(
        "--config", config, "subscribers", "add", "telegram:5", "--topics", "releases"
    )
    assert code == 2 and "unknown topic 'releases'" in err  # not a topic of the first series
    code, _, err = cli("--config", config, "subscribers", "add", "telegram:5", "--series", "x")
    assert code == 2 and "no series 'x'" in err
    code, out, _ = cli("--config", config, "subscribers", "list")
    assert code == 0 and out.rstrip().endswith("(nothing); widgets: topic:releases")
    engine = create_engine(db_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT series, kind, key FROM subscriptions")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("widgets", "topic", "releases")]


def test_two_files_of_one_number_in_a_batch_fail_naming_the_first(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path)
    widgets = tmp_path / "two-series" / "widgets"
    copy = widgets / "this-week-51.md"  # the same issue under another name
    copy.write_bytes((widgets / "issue-51.md").read_bytes())
    code, out, err = cli("--config", config, "--series", "widgets", "ingest", str(widgets))
    assert code == 1 and "2 added" in out and "1 failed" in out
    [failure] = [line for line in err.splitlines() if "same issue" in line]
    assert "this-week-51.md" in failure  # sorted after issue-51.md, which wins
    assert failure.endswith(
        "same issue number #51 as " + str(widgets / "issue-51.md") + "; skipped"
    )
