"""`briefbot check-layout` end to end, in-process, on the layout examples and on files
written for the tests: what a curator sees, the exit codes, and that nothing is archived."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import SAMPLES_DIR

LAYOUTS = SAMPLES_DIR / "layouts"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "archive.sqlite3"


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    database: Path,
) -> Run:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["check-layout", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_a_preset_on_its_example(cli: Run, database: Path) -> None:
    code, out, err = cli(str(LAYOUTS / "numbered-weekly"), "--layout", "numbered-weekly")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].endswith("issue-128.md: #128 2026-11-20, 6 entries")
    assert "     3  section-49b46cc3  科技动态" in lines
    assert "     2  blogs  文章" in lines
    assert "  warning line 15: section '本周话题：为什么小模型越来越多' has no entries" in lines
    assert "  left out line 5: 本期由示例云赞助，新用户首月免费。" in lines
    assert any(line.startswith("  unmatched line 17: 上周有读者问") for line in lines)
    assert lines[-1] == "layout numbered-weekly: 1 file, 0 failed"
    assert not database.exists(), "check-layout must not open the archive"


def test_the_wrong_layout_shows_what_matched_nothing(cli: Run) -> None:
    code, out, _ = cli(str(LAYOUTS / "numbered-weekly"), "--layout", "this-week-in")
    assert code == 0  # it parses: the numbered items are notes, which is what to tune
    assert "#128 2026-11-20, 1 entries" in out
    assert "  unmatched line 23: 1、[某厂发布 4 比特量化工具链]" in out


def test_the_configured_series_is_the_default(cli: Run) -> None:
    code, out, _ = cli(str(SAMPLES_DIR), str(LAYOUTS / "embedded-ai" / "2026-11-30.md"))
    assert code == 0
    files = len(list(SAMPLES_DIR.glob("*.md"))) + 1
    assert out.splitlines()[-1] == f"layout embedded-ai: {files} files, 0 failed"
    assert "2026-11-30.md: 2026-11-30, 4 entries" in out
    same, again, _ = cli(str(SAMPLES_DIR), "--series", "embedded-ai")
    assert same == 0 and again.splitlines()[-1].startswith("layout embedded-ai:")


def test_a_layout_file_with_overrides(cli: Run, tmp_path: Path) -> None:
    layout = tmp_path / "layout.toml"
    layout.write_text(
        '[layout]\npreset = "numbered-weekly"\nname = "mine"\n'
        'boilerplate = ["^上周有读者问", "^原因并不复杂"]\n'
        'section_names = { "工具" = "tools" }\n',
        encoding="utf-8",
    )
    code, out, _ = cli(str(LAYOUTS / "numbered-weekly"), "--layout-file", str(layout))
    assert code == 0
    assert "     1  tools  工具" in out
    assert "unmatched" not in out
    assert "  left out line 17: 上周有读者问" in out
    assert out.splitlines()[-1] == "layout mine: 1 file, 0 failed"


def test_json_output(cli: Run) -> None:
    code, out, _ = cli(str(LAYOUTS / "this-week-in"), "--layout", "this-week-in", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["layout"], data["failed"]) == ("this-week-in", 0)
    (report,) = data["files"]
    assert (report["ok"], report["number"], report["date"], report["entries"]) == (
        True, 42, "2026-11-20", 6
    )  # fmt: skip
    assert [s["entries"] for s in report["sections"]] == [3, 2, 1]
    assert report["unmatched"] == [{"line": 20, "text": "### Newsletters"}]
    assert [item["line"] for item in report["left_out"]] == [8, 50]


def test_a_file_that_does_not_parse_fails_the_run(cli: Run, tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "issue-1.md").write_text("# W #1\n\n## S\n\n- [a](https://e.com)\n", "utf-8")
    (folder / "draft.md").write_text("# W\n\n## S\n\n- [a](https://e.com)\n", "utf-8")
    (folder / "issue-3.md").write_bytes(b"# W #3\n\n\xff\xfe\n")
    code, out, _ = cli(str(folder), "--layout", "this-week-in")
    assert code == 1
    assert f"{folder / 'draft.md'}: FAILED line 1: no issue number in the H1 'W'" in out
    assert f"{folder / 'issue-3.md'}: FAILED line 3: not UTF-8 text" in out
    assert out.splitlines()[-1] == "layout this-week-in: 3 files, 2 failed"
    code, out, _ = cli(str(folder), "--layout", "this-week-in", "--json")
    assert code == 1
    assert [(f["file"], f["ok"]) for f in json.loads(out)["files"]] == [
        (str(folder / "draft.md"), False),
        (str(folder / "issue-1.md"), True),
        (str(folder / "issue-3.md"), False),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layout", "weekly"], "--layout: layout.preset: unknown preset 'weekly'"),
        (["--series", "rust"], "--series: no series 'rust'; configured: embedded-ai"),
    ],
)
def test_a_bad_layout_is_a_usage_error(cli: Run, args: list[str], message: str) -> None:
    code, out, err = cli(str(SAMPLES_DIR), *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"briefbot: {message}")


def test_a_bad_layout_file_names_the_key(cli: Run, tmp_path: Path) -> None:
    layout = tmp_path / "layout.toml"
    layout.write_text('[layout]\nboilerplate = ["ok", "(unclosed"]\n', encoding="utf-8")
    code, _, err = cli(str(SAMPLES_DIR), "--layout-file", str(layout))
    assert code == 2
    assert f"{layout}: layout.boilerplate[1]: bad regular expression '(unclosed'" in err
    layout.write_text("[series]\nslug = 'x'\n", encoding="utf-8")
    assert cli(str(SAMPLES_DIR), "--layout-file", str(layout))[2].endswith("no [layout] table\n")
    layout.write_text("[layout\n", encoding="utf-8")
    assert cli(str(SAMPLES_DIR), "--layout-file", str(layout))[0] == 2


def test_a_layout_file_with_an_exponential_pattern_is_refused(cli: Run, tmp_path: Path) -> None:
    # `re` cannot be interrupted: this pattern on one line of 40 `a`s and a `b` hangs
    layout = tmp_path / "layout.toml"
    layout.write_text('[layout]\nboilerplate = ["^(a|aa)+$"]\n', encoding="utf-8")
    code, out, err = cli(str(SAMPLES_DIR), "--layout-file", str(layout))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(
        f"briefbot: {layout}: layout.boilerplate[0]: '^(a|aa)+$': nested repetition can take "
        "exponential time: alternatives inside a repeat start with the same character"
    )


def test_layout_options_exclude_each_other(cli: Run) -> None:
    with pytest.raises(SystemExit):
        cli(str(SAMPLES_DIR), "--layout", "embedded-ai", "--series", "embedded-ai")


def test_an_empty_folder_is_an_error(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = cli(str(tmp_path / "empty"))
    assert code == 1 and "no *.md files under" in err
