"""`/preview correction SERIES NUMBER` with the real previewer on the two-series example:
widgets #51 pushed, then edited, is planned in the widgets series' own view (its issue,
its title); #50 was never pushed; the first series has no #51. zh and en. Both
databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.commands import Core, CoreDeps
from bot.config import load_settings
from bot.runtime import open_runtime
from tests.bot.commands.conftest import Client, text_of
from tests.bot.conftest import Cli
from tests.bot.test_cli_publish_series import _widgets


async def _ask(config: str, *typed: tuple[str, str]) -> list[str]:
    """Each (text, language) an admin sends, answered by the configured command core."""
    async with open_runtime(load_settings(Path(config))) as runtime:
        core = Core(CoreDeps.from_runtime(runtime))
        return [
            text_of(await Client(core, is_admin=True, language_code=lang).send(text))
            for text, lang in typed
        ]


def test_a_numbered_issue_of_another_series_is_previewed(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    assert cli(*series, "publish", "51")[0] == 0
    folder = tmp_path / "two-series" / "widgets"
    issue = folder / "issue-51.md"
    text = issue.read_text(encoding="utf-8")
    issue.write_text(text.replace("Widget runtime 3.2 released", "Widget runtime 3.3"), "utf-8")
    code, out, _ = cli(*series, "ingest", str(folder))
    assert code == 0 and "1 updated" in out
    planned, planned_en, latest, unpublished, unknown, first = asyncio.run(
        _ask(
            series[1],
            ("/preview 更正 widgets 51", "zh"),
            ("/preview correction widgets #51", "en"),
            ("/preview correction widgets", "zh"),
            ("/preview correction widgets 50", "en"),
            ("/preview correction widgets 99", "zh"),
            ("/preview correction 51", "en"),
        )
    )
    assert planned.startswith("更正预演（不发送）：This Week in Widgets #51 [#51]\n")
    title = "Correction dry run (nothing sent): This Week in Widgets #51 [#51]\n"
    assert planned_en.startswith(title)
    assert latest == planned  # the newest published issue of widgets
    assert unpublished == "Issue #50 was never pushed: an edit needs no correction."
    assert unknown == "This Week in Widgets没有第 99 期。"
    assert first == "嵌入式AI简报 has no issue #51."
