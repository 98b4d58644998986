"""`briefbot subscribers add --series widgets --sections ...` with the two-series example:
the weekly's sections are its free `##` headings once an issue has them (by key or as
written), not the Embedded AI briefing's; an unknown one is refused naming the valid
ones. Both databases."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import Cli
from tests.bot.test_cli_series import _config


def _add(cli: Cli, config: str, *sections: str) -> tuple[int, str, str]:
    return cli(
        "--config", config, "subscribers", "add", "telegram:5", "--series", "widgets",
        "--sections", *sections,
    )  # fmt: skip


def test_subscribers_add_takes_a_free_section_of_the_series(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, _, err = _add(cli, config, "tool-of-the-week")
    assert code == 2  # no issue has it yet
    assert "unknown section 'tool-of-the-week'; the series has no sections yet" in err
    widgets = str(tmp_path / "two-series" / "widgets")
    code, out, _ = cli("--config", config, "--series", "widgets", "ingest", widgets)
    assert code == 0 and "2 added" in out
    code, out, _ = _add(cli, config, "tool-of-the-week")
    assert (code, out.strip()) == (0, "added telegram:5 (widgets): section:tool-of-the-week")
    code, out, _ = _add(cli, config, "Updates from the community", "articles")
    assert code == 0
    assert out.strip().endswith("section:articles, section:updates-from-the-community")
    code, _, err = _add(cli, config, "papers")  # the first series' section, not this one's
    assert code == 2
    assert "unknown section 'papers'; valid: updates-from-the-community, articles, " in err
    code, _, err = cli("--config", config, "subscribers", "add", "telegram:6", "--sections", "x")
    assert code == 2 and "valid: news, papers, projects, blogs, apps" in err  # the first
