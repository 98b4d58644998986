"""`briefbot run` with two series, end to end on the strict local Bot API server.

The Embedded AI briefing (dated issues) and an English numbered weekly written for the
test in the shape of "This Week in X" newsletters (no date: it goes out at its series'
scheduled time after it appears). Readers subscribed before the start: one to each
series, one to both; each gets exactly the issues of their series. A newcomer's
/series lists both with buttons, and a button subscribes them.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from tests.bot.test_run_telegram import ROOT, _briefbot, _env, _newest_sample, _visible
from tests.fakes.telegram_server import FakeTelegramServer

EAI_ONLY, GADGETS_ONLY, BOTH, NEWCOMER = 42, 44, 45, 43
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

GADGETS_ISSUE = """# This Week in Gadgets #7

Welcome to the seventh issue: a quiet week with one big release.

_This issue is sponsored by Example Hosting._

---

## Updates from the community

- [Gadget toolkit 4.0 is out](https://example.com/gadgets/7/toolkit)
  Summary: a new plugin system and faster builds.

## Tool of the week

- [gadget-probe](https://example.com/gadgets/7/probe)

  Inspects running gadgets from the command line.

## Previous issues

- [#6](https://example.com/gadgets/6)
"""


def _config(tmp_path: Path, weekday: str) -> Path:
    eai, gadgets = tmp_path / "eai", tmp_path / "gadgets"
    eai.mkdir()
    gadgets.mkdir()
    newest = sorted((ROOT / "samples").glob("*.md"))[-1]
    (eai / newest.name).write_bytes(newest.read_bytes())
    (gadgets / "issue-7.md").write_text(GADGETS_ISSUE, encoding="utf-8")
    config = tmp_path / "two.toml"
    config.write_text(
        f"""
[[series]]
slug = "embedded-ai"
title = "嵌入式AI简报"
[[series.sources]]
kind = "folder"
name = "eai"
path = "eai"
interval_seconds = 1

[[series]]
slug = "gadgets"
title = "This Week in Gadgets"
languages = ["en"]
layout = "this-week-in"
default_subscription = false
[series.schedule]
time = "09:00:00"
timezone = "Asia/Shanghai"
weekdays = ["{weekday}"]
[[series.sources]]
kind = "folder"
name = "gadgets"
path = "gadgets"
interval_seconds = 1
""",
        encoding="utf-8",
    )
    return config


async def test_two_series_each_reach_only_their_readers(tmp_path: Path) -> None:
    briefbot, issue = _briefbot(), _newest_sample()
    assert issue.key is not None
    config = _config(tmp_path, WEEKDAYS[issue.key.weekday()])
    async with FakeTelegramServer() as server:
        env = _env(tmp_path, server)

        def add(*args: str) -> None:
            command = [str(briefbot), "--config", str(config), "subscribers", "add", *args]
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)

        add(f"telegram:{EAI_ONLY}")
        add(f"telegram:{GADGETS_ONLY}", "--series", "gadgets")
        add(f"telegram:{BOTH}")
        add(f"telegram:{BOTH}", "--series", "gadgets")
        log = (tmp_path / "run.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            str(briefbot), "--config", str(config), "run", "--start", f"{issue.key}T08:59:57",
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            await server.wait_for_calls("getUpdates", 1, timeout=60)
            server.inject_command(NEWCOMER, "series")
            [listing] = await server.wait_for_messages(NEWCOMER, 1, timeout=30)
            assert "This Week in Gadgets (gadgets)" in listing.visible_text
            assert "嵌入式AI简报 (embedded-ai)" in listing.visible_text
            server.press_button(NEWCOMER, listing.message_id, text="⬜ This Week in Gadgets")
            subscribed = lambda: "✅ This Week in Gadgets" in _visible(server, NEWCOMER)  # noqa: E731
            await server.wait_until(subscribed, timeout=30, what="the /series button's edit")

            def arrived() -> bool:
                return (
                    issue.title in _visible(server, EAI_ONLY)
                    and "This Week in Gadgets #7" in _visible(server, GADGETS_ONLY)
                    and issue.title in _visible(server, BOTH)
                    and "This Week in Gadgets #7" in _visible(server, BOTH)
                )

            await server.wait_until(arrived, timeout=90, what="both series' issues")
            await asyncio.sleep(3)  # a few more checks: nothing else may go out
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 60)
            log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0 and "Traceback" not in output, output[-3000:]
    assert "Gadgets" not in _visible(server, EAI_ONLY)
    assert issue.title not in _visible(server, GADGETS_ONLY)
    assert "sponsored" not in _visible(server, GADGETS_ONLY)  # the layout's boilerplate
    assert "gadget-probe" in _visible(server, GADGETS_ONLY)
    assert "series" in {c["command"] for c in server.commands()}  # in the menu: two series
