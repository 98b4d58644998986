"""Series needing more Official Account tags than an account may have (100: one per
series, section and topic) stop `briefbot run` at start, and `tick --deliver` before it
publishes anything, with one line naming wechat and the count, exit 2: no traceback,
no secret, no WeChat call (the API address is a closed loopback port). A real process,
as an operator starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.test_startup import SECRET, one_line_error

TOPICS = 60  # a series: 'all', its sections and 60 topics; two series: over 100 tags


def config(root: Path, wechat: str) -> Path:
    lines = []
    for slug in ("embedded-ai", "gadgets"):
        (root / slug).mkdir()
        lines += ["[[series]]", f'slug = "{slug}"', "[[series.sources]]", 'kind = "folder"']
        lines += [f'name = "{slug}"', f'path = "{root / slug}"']
        for i in range(TOPICS):
            lines += [f"[series.topics.t{i}]", f'en = "Topic {i}"', f'zh = "话题{i}"']
            lines += [f'keywords = ["kw{i}"]']
    lines += ["[storage]", f'url = "sqlite+aiosqlite:///{root / "t.db"}"']
    lines += ["[wechat]", 'app_id = "wx1"', f'secret = "{SECRET}"']
    lines += ['base_url = "http://127.0.0.1:9"', wechat]  # nothing listens there
    path = root / "c.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "wechat",
    [
        "",  # pushes only: mass sends need the tags
        f'token = "{SECRET}"\n[web]\nhost = "127.0.0.1"\nport = PORT',  # and callbacks
    ],
    ids=["pushes", "callbacks"],
)
def test_series_needing_more_tags_than_an_account_has_stop_run_in_one_line(
    tmp_path: Path, wechat: str
) -> None:
    path = config(tmp_path, wechat.replace("PORT", str(free_port())))
    done = briefbot(tmp_path, "--config", str(path), "run", "--no-chat")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert_too_many_tags(done.stderr)


def test_a_one_shot_delivery_stops_on_too_many_tags_in_one_line(tmp_path: Path) -> None:
    path = config(tmp_path, "")
    (tmp_path / "gadgets" / "issue-1.md").write_text("# Gadgets #1\n\n- [a](https://e.x/a)\n")
    done = briefbot(tmp_path, "--config", str(path), "tick", "--deliver")
    assert done.returncode == 2, done.stderr
    assert_too_many_tags(done.stderr)
    assert done.stdout == ""  # nothing polled, nothing published: a run later does it all


def briefbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    entry = Path(sys.executable).with_name("briefbot")
    if not entry.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    return subprocess.run(
        [str(entry), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def assert_too_many_tags(stderr: str) -> None:
    line = one_line_error(stderr)
    need = 2 * (1 + TOPICS)  # sections get tags only while some are left
    assert line.startswith(f"briefbot: wechat: the series need {need} tags "), line
    assert "an Official Account has at most 100" in line
