"""The real corpus through the adapter: every message Telegram would have to accept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storage.issues import issue_keys, latest_issue
from tests.bot.telegram.conftest import HarnessFactory
from tests.bot.telegram.harness import visible

# Ingesting the corpus takes seconds; the adapter does not care which database is behind.
pytestmark = [pytest.mark.corpus, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
USER = 9009
_MARKUP = re.compile(r"[*_`\[\]]")


def words(title: str) -> str:
    """A stretch of the title that survives rendering (markdown marks aside)."""
    return max(_MARKUP.split(title), key=len).strip()[:24]


async def test_the_corpus_by_buttons_and_in_full(
    harness_factory: HarnessFactory, corpus_dir: Path
) -> None:
    harness = await harness_factory(ingest=[corpus_dir])
    async with harness.runtime.sessions() as session:
        issue = await latest_issue(session, harness.runtime.series.slug)
        keys = await issue_keys(session, harness.runtime.series.slug)
    assert issue is not None
    [overview] = await harness.say(USER, "/latest")
    assert issue.key.isoformat() in overview.visible_text
    buttons = overview.reply_markup["inline_keyboard"] if overview.reply_markup else []
    data = [b["callback_data"] for row in buttons for b in row]
    assert len(data) == len(issue.sections) + 1  # one per section, and the whole issue
    for section, button in zip(issue.sections, data, strict=False):
        _, replies = await harness.press(overview, data=button)
        text = visible(replies)
        assert replies and all(m.parse_mode == "HTML" for m in replies)
        for entry in section.entries:
            assert words(entry.title) in text, (section.key, entry.title)

    # Every issue in full: each message passes the strict server (checked at teardown).
    assert len(keys) == len(list(corpus_dir.glob("*.md")))
    for key in keys:
        replies = await harness.say(USER, f"/issue {key.isoformat()} all")
        assert len(replies) >= 1, key
        assert key.isoformat() in replies[0].visible_text, key
