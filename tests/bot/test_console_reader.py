"""A reader's session through the installed `briefbot chat`, as a subprocess (issue 14):
subscriptions that say what they do, /start once, numbers no button has, English."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def briefbot(tmp_path: Path) -> list[str]:
    exe = Path(sys.executable).with_name("briefbot")
    if not exe.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "db.sqlite3"}"\n')
    return [str(exe), "--config", str(config)]


def run(base: list[str], *args: str, stdin: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    done = subprocess.run(
        [*base, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_subscriptions_start_and_numbers_in_both_languages(briefbot: list[str]) -> None:
    lines = [
        "/start",
        "/start",
        "/subscribe chips",
        "/sections",
        "99",
        "/unsubscribe chips",
        "/unsubscribe all",
        "/settings lang en",
        "/subscribe papers",
        "/sections",
        "42",
        "/unsubscribe all",
    ]
    out = run(briefbot, "chat", stdin="\n".join(lines) + "\n")
    assert out.count("欢迎使用「嵌入式AI简报」机器人") == 1
    assert "欢迎回来！发送 /help 查看全部命令" in out
    assert "已包含在内：芯片（你订阅的是全部栏目和标签）" in out
    assert "[1] ✅ 全部" in out and "⬜ 芯片" not in out.split("已退订：芯片")[0]
    assert "没有编号 99，请输入 1 到 15 之间的数字。" in out
    assert "已退订：芯片" in out and "与芯片相关的条目仍会随你订阅的栏目一起推送" in out
    assert "已退订全部栏目和标签。\n当前没有订阅任何内容。" in out
    english = out.split("Saved.", 1)[1]
    assert "Subscribed: Papers\nCurrently subscribed to: Papers" in english
    assert "[1] ⬜ Everything" in english and "✅ Papers" in english
    assert "There is no choice 42; type a number from 1 to 15." in english
    assert "Unsubscribed from everything: every section and topic." in english


def test_latest_in_english(briefbot: list[str], samples_dir: Path) -> None:
    run(briefbot, "ingest", str(samples_dir))
    out = run(briefbot, "chat", "--lang", "en", stdin="/latest\n1\n")
    contents = out.split("Contents", 1)[1].split("[1]", 1)[0]
    assert "• Applications — 1 entry\n" in contents and "• Papers — 3 entries" in contents
    assert "11 entries in total" in contents
    assert "业界新闻" not in out and "应用" not in contents
    # English headings are not bracketed the Chinese way: 【】 would be the only Chinese
    # on screen that the briefing itself did not write.
    assert "== Contents ==" in out and "== Industry news ==" in out
    assert "【Contents】" not in out and "【Industry news】" not in out
