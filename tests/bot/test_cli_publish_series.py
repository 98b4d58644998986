"""`briefbot --series SLUG publish NUMBER` and `corrections NUMBER`: an undated issue of a
numbered series published (or planned) by hand by its number, `#51` and `latest` too,
with clear errors; dates keep naming the first series' issues. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.conftest import Cli
from tests.bot.test_cli_series import _config


def _widgets(cli: Cli, tmp_path: Path) -> tuple[str, ...]:
    """The two-series example with widgets #50 and #51 ingested and one widgets reader."""
    config = _config(tmp_path)
    series = ("--config", config, "--series", "widgets")
    code, out, _ = cli(*series, "ingest", str(tmp_path / "two-series" / "widgets"))
    assert code == 0 and "2 added" in out
    code, _, _ = cli("--config", config, "subscribers", "add", "telegram:5", "--series", "widgets")
    assert code == 0
    return series


def test_publish_takes_a_number_of_the_chosen_series(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    code, out, _ = cli(*series, "publish", "#50", "--dry-run")
    assert code == 0
    assert out.startswith("Dry run (nothing sent): This Week in Widgets #50 [#50], content ")
    assert "1 chat would get it" in out and "telegram:5 (private)" in out
    code, out, _ = cli(*series, "publish", "latest")
    assert code == 0 and out.startswith("Published issue #51 (content ")
    assert "1 delivery in 1 rendering" in out
    code, _, err = cli(*series, "publish", "51")
    assert code == 1 and "Issue #51 was already published at " in err
    code, out, _ = cli(*series, "publish", "50")
    assert code == 0 and out.startswith("Published issue #50 (content ")


def test_publish_and_corrections_say_what_is_missing(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _widgets(cli, tmp_path)
    code, _, err = cli(*series, "publish", "99")
    assert code == 1 and "There is no issue #99." in err
    with pytest.raises(SystemExit) as exited:  # argparse's error
        cli(*series, "publish", "soon")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "expected YYYY-MM-DD, an issue number or 'latest', got 'soon'" in err
    config = series[1]
    code, _, err = cli("--config", config, "publish", "51")  # the first series is dated
    assert code == 1 and "There is no issue #51." in err
    code, _, err = cli(*series, "corrections", "#99")
    assert code == 1 and "no issue #99 in the archive of widgets" in err


def test_corrections_name_a_numbered_issue(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    code, out, _ = cli(*series, "corrections", "51")
    assert (code, out.strip()) == (0, "#51 was never pushed: nothing to correct")
    assert cli(*series, "publish", "51")[0] == 0
    code, out, _ = cli(*series, "corrections", "latest", "--dry-run")
    assert (code, out.strip()) == (0, "#51: readers have the current content: nothing to correct")


def test_show_takes_a_number(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    code, out, _ = cli(*series, "show", "#50")
    assert code == 0 and out.startswith("This Week in Widgets #50  [#50]")
    code, _, err = cli(*series, "show", "99")
    assert code == 1 and "no issue #99 in the archive" in err
