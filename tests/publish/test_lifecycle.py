"""An issue's life through a folder and a git source: draft, edits, due, pushed once, edited after.

Runs on SQLite and PostgreSQL (the `engine` fixture is parametrised over both).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import PublishSettings, Settings, SourceSettings, TelegramSettings
from bot.delivery import drain
from bot.delivery.engine import EngineTuning
from bot.publish.alerts import RecordingNotifier
from bot.publish.cycle import Cycle, build_cycle
from bot.publish.rule import issue_state
from bot.runtime import Runtime
from storage.issues import get_issue
from tests.publish.helpers import (
    KEY,
    GitRemote,
    add_subscriber,
    briefing,
    deliveries,
    make_runtime,
    summary_of,
    utc,
)

CHANNEL = "@embedded_ai_daily"


class Desk:
    """The editor's side: where each version of the briefing is written."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        if kind == "folder":
            self.folder = root / "issues"
            self.folder.mkdir()
            self.source = SourceSettings(kind="folder", name="desk", path=str(self.folder))
        else:
            self.remote = GitRemote(root)
            self.remote.commit({"README.md": "# not a briefing\n"}, "init")
            self.source = SourceSettings(
                kind="git",
                name="desk",
                url=self.remote.url,
                branch="master",
                path="embedded-ai-report/",
            )

    def write(self, text: str, key: date = KEY) -> None:
        name = f"{key.isoformat()}.md"
        if self.kind == "folder":
            (self.folder / name).write_text(text, encoding="utf-8")
        else:
            self.remote.commit({f"embedded-ai-report/{name}": text})


async def _tick(cycle: Cycle, clock: FixedClock, at: datetime) -> None:
    clock.set(at)
    report = await cycle.run_once()
    assert all(poll.ok for poll in report.polls), [p.summary() for p in report.polls]


@pytest.mark.parametrize("kind", ["folder", "git"])
async def test_draft_edits_due_edit_pushes_once_with_the_content_at_publication(
    kind: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    desk = Desk(kind, tmp_path)
    # Corrections off: an edit after the push then only updates the archive (with them on,
    # tests/publish/test_corrections.py follows the edit to the readers).
    settings = Settings(
        sources=[desk.source],
        telegram=TelegramSettings(channel=CHANNEL),
        publish=PublishSettings(corrections=False),
    )
    runtime = make_runtime(engine, settings)
    await add_subscriber(runtime, "telegram:1001")
    await add_subscriber(runtime, "telegram:1002", sections=["papers"], topics=["chips"])
    await add_subscriber(runtime, "wechat:oWeChatUser", format="digest", language="en")
    await add_subscriber(runtime, "telegram:1003", paused=True)
    await add_subscriber(runtime, "telegram:1004", active=False)
    clock = FixedClock(utc(10, 30, 10))
    cycle = build_cycle(runtime, clock, RecordingNotifier(), cache_dir=tmp_path / "cache")

    async def state() -> str:
        return issue_state(await summary_of(runtime), clock.now(), settings)

    desk.write(briefing(version="v1"))  # a draft, days before its date
    await _tick(cycle, clock, utc(10, 30, 10))
    assert await state() == "draft"
    desk.write(briefing(version="v2"))
    await _tick(cycle, clock, utc(11, 1, 12))
    desk.write(briefing(version="v3"))  # 08:50 in Shanghai, ten minutes before it is due
    await _tick(cycle, clock, utc(11, 2, 0, 50))
    assert await state() == "draft"
    await _tick(cycle, clock, utc(11, 2, 1, 5))  # due, but edited 15 minutes ago
    assert await state() == "due"
    assert await deliveries(runtime) == {}

    await _tick(cycle, clock, utc(11, 2, 1, 21))  # quiet for 31 minutes: published
    published = await deliveries(runtime)
    assert sorted(published) == [
        "telegram:1001",
        "telegram:1002",
        f"telegram:{CHANNEL}",
        "wechat:oWeChatUser",
    ]
    summary = await summary_of(runtime)
    assert await state() == "published"
    assert summary.published_at == utc(11, 2, 1, 21)
    assert summary.published_hash == summary.content_hash

    desk.write(briefing(version="v4-after-publication"))  # a correction after the push
    await _tick(cycle, clock, utc(11, 2, 3))
    await _tick(cycle, clock, utc(11, 3, 3))
    await _tick(cycle, clock, utc(11, 5, 3))

    final = await deliveries(runtime)
    assert {chat: len(sent) for chat, sent in final.items()} == dict.fromkeys(published, 1)
    for chat, (sent,) in final.items():
        assert "v3" in sent.text, chat
        assert "v4" not in sent.text, chat
    assert final[f"telegram:{CHANNEL}"][0].rendering_key == final["telegram:1001"][0].rendering_key
    after = await summary_of(runtime)
    assert after.published_hash == summary.published_hash != after.content_hash
    assert await state() == "published"
    async with runtime.sessions() as session:
        archived = await get_issue(session, runtime.series.slug, KEY)
    assert archived is not None and "v4-after-publication" in archived.intro

    telegram = Recorder()  # what actually goes out: once per chat, the v3 text
    await drain(runtime, {"telegram": telegram}, tuning=EngineTuning(idle_poll=0.01))
    await drain(runtime, {"telegram": telegram}, tuning=EngineTuning(idle_poll=0.01))
    expected = {c.split(":", 1)[1]: final[c][0] for c in final if c.startswith("telegram:")}
    assert set(telegram.sent) == set(expected)
    for chat_id, delivery in expected.items():
        texts = telegram.sent[chat_id]
        assert texts == [m["text"] for m in delivery.messages]  # each message once, in order
        assert all("v4" not in text for text in texts)


class Recorder:
    """A Telegram sender that keeps what it was asked to send."""

    platform = "telegram"

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = {}

    def chat_kind(self, chat_id: str) -> str:
        return "channel" if chat_id.startswith("@") else "private"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        self.sent.setdefault(chat_id, []).append(str(message["text"]))


async def test_renderings_are_shared_and_sized_per_platform(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, cycle, clock = await _folder_setup(engine, tmp_path)
    for n in range(5):
        await add_subscriber(runtime, f"telegram:{2000 + n}")
    await add_subscriber(runtime, "wechat:oA", language="en")
    await add_subscriber(runtime, "console:local", format="digest")
    await _tick(cycle, clock, utc(11, 2, 2))
    sent = await deliveries(runtime)
    assert len(sent) == 7
    keys = {chat: s[0].rendering_key for chat, s in sent.items()}
    assert len({keys[f"telegram:{2000 + n}"] for n in range(5)}) == 1
    # Official Account followers get their tag parts' mass sends (Chinese: bot.publish.mass).
    assert keys["wechat:oA"] == "mass;parts=all"
    assert keys["console:local"] == "console;all;format=digest;lang=zh"
    telegram = sent["telegram:2000"][0].messages
    assert telegram[0]["format"] == "html" and telegram[0]["unit"] == "utf16"
    assert sent["wechat:oA"][0].messages[0]["unit"] == "bytes"
    assert "Papers" in sent["wechat:oA"][0].text or "论文" in sent["wechat:oA"][0].text


async def _folder_setup(
    engine: AsyncEngine, tmp_path: Path, **settings: object
) -> tuple[Runtime, Cycle, FixedClock]:
    folder = tmp_path / "issues"
    folder.mkdir(exist_ok=True)
    (folder / f"{KEY}.md").write_text(briefing(version="v1"), encoding="utf-8")
    config = Settings(sources=[SourceSettings(kind="folder", path=str(folder))], **settings)  # type: ignore[arg-type]
    runtime = make_runtime(engine, config)
    clock = FixedClock(utc(10, 30))
    await build_cycle(runtime, clock).run_once()  # first seen days before its date
    return runtime, build_cycle(runtime, clock, cache_dir=tmp_path / "cache"), clock
