"""`briefbot ingest / issues / show` end to end, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import SAMPLES_DIR
from tests.sources.special_files import SPECIAL, deadline, special_files


def sample_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "issues"
    shutil.copytree(SAMPLES_DIR, folder)
    return folder


def test_ingest_is_idempotent_and_reports_counts(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = sample_copy(tmp_path)
    count = len(list(folder.glob("*.md")))
    code, out, _ = cli("ingest", str(folder))
    assert code == 0
    assert f"{count} added / 0 updated / 0 unchanged / 0 failed" in out
    code, out, _ = cli("ingest", str(folder))
    assert (code, out.strip()) == (0, f"0 added / 0 updated / {count} unchanged / 0 failed")


def test_edited_summary_updates_and_show_reflects_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = sample_copy(tmp_path)
    cli("ingest", str(folder))
    target = sorted(folder.glob("*.md"))[-1]
    text = target.read_text(encoding="utf-8")
    assert "摘要：" in text
    target.write_text(text.replace("摘要：", "摘要：EDITED-SUMMARY ", 1), encoding="utf-8")
    code, out, _ = cli("ingest", str(folder))
    assert code == 0 and "0 added / 1 updated /" in out
    code, out, _ = cli("show", target.stem, "--json")
    data = json.loads(out)
    summaries = [e["summary"] for s in data["sections"] for e in s["entries"]]
    assert any(s.startswith("EDITED-SUMMARY") for s in summaries)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", ":1:"),
        ("---\nlayout: default\n---\n\n## 论文\n\n- [a | b](https://x)\n".encode(), "# title"),
        ("# 嵌入式AI简报 (2099-01-01\n\n## 论文\n\n- [a | b](https://x)\n".encode(), "date"),
        ("---\nlayout: default\n\n# 嵌入式AI简报 (2099-01-01)\n".encode(), "front matter"),
    ],
)
def test_malformed_file_fails_clearly_and_others_still_ingest(
    cli, tmp_path: Path, content: bytes, needle: str
) -> None:  # type: ignore[no-untyped-def]
    folder = sample_copy(tmp_path)
    bad = folder / "2099-01-01.md"
    bad.write_bytes(content)
    code, out, err = cli("ingest", str(folder))
    assert code == 1
    assert "1 failed" in out and "0 updated" in out
    assert f"{bad}:" in err and needle.lower() in err.lower()
    code, out, _ = cli("issues", "--json")
    keys = [item["key"] for item in json.loads(out)]
    assert "2099-01-01" not in keys and len(keys) == len(list(SAMPLES_DIR.glob("*.md")))


def test_two_files_of_one_date_do_not_overwrite_each_other(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = sample_copy(tmp_path)
    first = sorted(folder.glob("*.md"))[-1]
    copy = folder / "zz-duplicate.md"  # the date comes from the H1; sorted after the original
    copy.write_text(first.read_text(encoding="utf-8").replace("摘要：", "摘要：COPY ", 1))
    count = len(list(folder.glob("*.md")))
    for added, unchanged in ((count - 1, 0), (0, count - 1)):  # the same outcome every run
        code, out, err = cli("ingest", str(folder))
        assert code == 1 and f"{added} added / 0 updated / {unchanged} unchanged / 1 failed" in out
        assert f"same issue date {first.stem} as {first}" in err
    code, out, _ = cli("show", first.stem, "--json")
    assert "COPY" not in out  # the first file (in name order) holds the date


def test_recoverable_defects_are_warnings_in_ingest_and_show(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "2030-05-01.md"
    path.write_text(
        "# 嵌入式AI简报 (2030-05-01)\n\n## 论文\n\n"
        "- [Unclosed title | 机器之心(https://example.com/a)\n摘要：还在。\n"
        "- [Empty link | 量子位]()\n\n## 开源项目\n\n",
        encoding="utf-8",
    )
    code, out, err = cli("ingest", str(path))
    assert code == 0 and "1 added" in out
    assert "warning:" in err and str(path) in err
    code, out, again = cli("ingest", str(path))  # unchanged, and still unfinished
    assert code == 0 and "1 unchanged" in out and again.count("warning:") == err.count("warning:")
    code, out, _ = cli("show", "2030-05-01", "--json")
    data = json.loads(out)
    assert data["warnings"], "show --json must carry the parse warnings"
    assert {w["line"] for w in data["warnings"]} >= {5, 7}
    papers = data["sections"][0]["entries"]
    assert len(papers) == 2 and "Unclosed title" in papers[0]["title"]


def test_issues_lists_newest_first_and_show_latest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(sample_copy(tmp_path)))
    code, out, _ = cli("issues", "--json")
    items = json.loads(out)
    keys = [item["key"] for item in items]
    assert keys == sorted(keys, reverse=True)
    yesterday = date.today() - timedelta(days=1)  # a day's margin for the publish timezone
    assert all(date.fromisoformat(key) < yesterday for key in keys), "samples are past issues"
    for item in items:  # ingested, never published: due (a future date would be a draft)
        assert item["entry_count"] > 0 and item["state"] == "due"
        assert item["published_at"] is None and item["published_hash"] is None
    code, out, _ = cli("show", "latest", "--json")
    assert code == 0 and json.loads(out)["key"] == keys[0]
    code, out, _ = cli("show", "latest")
    assert code == 0 and keys[0] in out and "## " in out


def test_show_unknown_key_and_bad_key(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("show", "2001-01-01")
    assert code == 1 and "2001-01-01" in err
    with pytest.raises(SystemExit) as exc:
        cli("show", "yesterday")
    assert exc.value.code == 2


@pytest.mark.corpus
def test_whole_corpus_ingests_then_is_unchanged(cli, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("ingest", str(corpus_dir))
    assert code == 0, err
    assert "34 added / 0 updated / 0 unchanged / 0 failed" in out
    code, out, _ = cli("ingest", str(corpus_dir))
    assert "0 added / 0 updated / 34 unchanged / 0 failed" in out


def test_config_is_accepted_after_the_sub_command_too(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\nnonsense = 1\n", encoding="utf-8")
    for argv in (["--config", str(bad), "issues"], ["issues", "--config", str(bad)]):
        code, _, err = cli(*argv)
        assert code == 2 and "nonsense" in err, argv  # the file was read either way
    code, _, err = cli("subscribers", "list", "--config", str(bad))
    assert code == 2 and "nonsense" in err


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    briefbot = Path(sys.executable).with_name("briefbot")
    if not briefbot.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    summary = "长摘要" * 40  # ~100 KB of output in all: more than a pipe holds
    entries = "".join(
        f"- [Entry {n} | src](https://e.com/{n})\n摘要：{summary}\n" for n in range(300)
    )
    big = tmp_path / "2030-01-01.md"
    big.write_text(f"# 嵌入式AI简报 (2030-01-01)\n\n## 论文\n\n{entries}", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    env["BRIEFBOT_STORAGE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'pipe.sqlite3'}"
    subprocess.run([briefbot, "ingest", str(big)], env=env, check=True, capture_output=True)
    done = subprocess.run(
        f"'{briefbot}' show latest | head -1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.startswith("嵌入式AI简报 (2030-01-01)")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_an_issue_too_big_to_archive_fails_cleanly(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    entries = "".join(f"- [Entry {n} | src](https://e.com/{n})\n" for n in range(1100))
    big = tmp_path / "2030-01-02.md"
    big.write_text(f"# 嵌入式AI简报 (2030-01-02)\n\n## 论文\n\n{entries}", encoding="utf-8")
    code, out, err = cli("ingest", str(big))
    assert code == 1 and "1 failed" in out
    assert f"{big}:3: section '论文' has 1100 entries, more than the 1024" in err
    assert "search id" not in err and "out of range" not in err
    code, out, _ = cli("issues", "--json")
    assert json.loads(out) == []  # nothing half-saved


def _issue(key: str, sections: int = 1, entries: int = 1, h1: str | None = None) -> str:
    body = "".join(
        f"## 栏目{s}\n\n"
        + "".join(f"- [E{s}.{e} | src](https://e.com/{s}/{e})\n" for e in range(entries))
        for s in range(sections)
    )
    return f"# 嵌入式AI简报 ({h1 or key})\n\n{body}"


@pytest.mark.parametrize(
    ("setting", "sections", "entries", "message"),
    [
        ("MAX_SECTIONS=3", 4, 1, "4 sections, more than ingest.max_sections = 3"),
        ("MAX_ENTRIES=5", 2, 3, "6 entries, more than ingest.max_entries = 5"),
    ],
)
def test_section_and_entry_caps_name_the_count_and_the_setting(  # type: ignore[no-untyped-def]
    cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    sections: int,
    entries: int,
    message: str,
) -> None:
    name, value = setting.split("=")
    monkeypatch.setenv(f"BRIEFBOT_INGEST_{name}", value)
    path = tmp_path / "2030-02-01.md"
    path.write_text(_issue("2030-02-01", sections, entries), encoding="utf-8")
    code, out, err = cli("ingest", str(path))
    assert code == 1 and "1 failed" in out
    assert f"error: {path}: {message}" in err  # a file-level error: no `:0:`
    assert ":0:" not in err
    fits = tmp_path / "2030-02-02.md"
    fits.write_text(_issue("2030-02-02", sections - 1 if sections > 3 else 1, 1), encoding="utf-8")
    assert cli("ingest", str(fits))[0] == 0


def test_a_cap_beyond_what_the_archive_holds_is_a_config_error(  # type: ignore[no-untyped-def]
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_INGEST_MAX_SECTIONS", "5000")
    code, _, err = cli("issues")
    assert code == 2 and "ingest.max_sections" in err and "1023" in err


def test_a_file_over_the_size_limit_is_refused_in_the_users_terms(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    big = tmp_path / "2030-03-01.md"
    filler = "摘要：" + "字" * 1_100_000  # 3.3 MB of UTF-8
    big.write_text(_issue("2030-03-01") + filler + "\n", encoding="utf-8")
    code, out, err = cli("ingest", str(big))
    assert code == 1 and "1 failed" in out
    assert f"{big}: file is 3.3 MB, larger than the 2 MB limit (ingest.max_file_bytes)" in err


def test_a_file_named_for_another_date_never_overwrites_that_issue(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    real = tmp_path / "2020-12-07.md"
    real.write_text(_issue("2020-12-07").replace("E0.0", "REAL"), encoding="utf-8")
    assert cli("ingest", str(real))[0] == 0
    copy = tmp_path / "2020-11-30.md"  # copied from 12-07, H1 not yet edited
    copy.write_text(_issue("2020-11-30", h1="2020-12-07"), encoding="utf-8")
    code, out, err = cli("ingest", str(copy))
    assert code == 1 and "0 updated" in out and "1 failed" in out
    assert f"{copy}:1: the file name says 2020-11-30 but the H1 says 2020-12-07" in err
    _, shown, _ = cli("show", "2020-12-07")
    assert "REAL" in shown
    assert cli("show", "2020-11-30")[0] == 1


@pytest.mark.parametrize(
    "content",
    ["", "\n\n", "# 嵌入式AI简报 (2030-04-01)\n", "# 嵌入式AI简报 (2030-04-01)\n\n> 导读：待写\n"],
    ids=["empty", "blank", "only-h1", "h1-and-intro"],
)
def test_an_unfinished_placeholder_is_a_warning_not_a_failure(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, content: str
) -> None:
    folder = sample_copy(tmp_path)
    placeholder = folder / "2030-04-01.md"
    placeholder.write_text(content, encoding="utf-8")
    count = len(list(SAMPLES_DIR.glob("*.md")))
    code, out, err = cli("ingest", str(folder))
    assert code == 0, err
    assert f"{count} added / 0 updated / 0 unchanged / 0 failed / 1 skipped" in out
    assert f"warning: {placeholder}" in err and "unfinished" in err and "error:" not in err
    _, listed, _ = cli("issues", "--json")
    assert "2030-04-01" not in listed


def test_special_files_are_skipped_promptly_with_a_warning(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    folder = sample_copy(tmp_path)
    count = len(list(SAMPLES_DIR.glob("*.md")))
    with special_files(folder) as paths, deadline(20):
        # in the folder, and by name (a symlinked folder named on the command line is a folder)
        named = [str(path) for path in paths if path.name != "folder.md"]
        code, out, err = cli("ingest", str(folder), *named)
    assert code == 0, err
    skipped = len(paths) + len(named)
    assert f"{count} added / 0 updated / 0 unchanged / 0 failed / {skipped} skipped" in out
    for path, kind in zip(paths, SPECIAL.values(), strict=True):
        times = 1 + (str(path) in named)
        assert err.count(f"warning: {path}: {kind}") == times, (path, err)
