"""A command core over a real database holding the project's sample briefings."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import Button, Chat, Core, CoreDeps, FloodPolicy, Incoming, Reply
from bot.config import Settings
from bot.publish.correction_preview import CorrectionPreview, CorrectionState
from bot.publish.corrections import CorrectionPlan, EntryChange
from bot.publish.results import Defect, Preview, Publication, PublishResult, Recipient, Refusal
from briefings.model import Issue, Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.issues import save_issue
from storage.search import index_issue
from tests.dbfixtures import db_url, engine, postgres_database, session_factory

__all__ = ["db_url", "engine", "postgres_database", "session_factory"]

SERIES = Series("embedded-ai", "嵌入式AI简报")
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
PRIVATE = Chat("telegram", "1001", "private")
GROUP = Chat("telegram", "-2002", "group")
CHANNEL = Chat("telegram", "-1003", "channel")
BOT = "briefbot"
_TAG = re.compile(r"</?[a-z][a-z-]*(?: [^>]*)?>")


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakePublisher:
    """Answers with every part an answer can have, so each is said in both languages:
    a dry run of a held issue with each kind of defect, a publication, then refusals."""

    calls: list[tuple[date | int, bool]] = field(default_factory=list)
    series: list[str] = field(default_factory=list)  # each call's series
    raced: set[date | int] = field(default_factory=set)  # published by the scheduler meanwhile
    published: set[date | int] = field(default_factory=set)

    async def publish(self, key: date | int, dry_run: bool, series: str = "") -> PublishResult:
        self.calls.append((key, dry_run))
        self.series.append(series)
        # an int is a numbered series' issue: undated here, named by its number
        day, number = (None, key) if isinstance(key, int) else (key, None)
        if dry_run:
            return replace(FAKE_PREVIEW, key=day, number=number)
        if key in self.raced:
            return Refusal(key, "already_published")
        if key in self.published:
            return Refusal(key, "already_published", T0, "c0ffee")
        self.published.add(key)
        return replace(FAKE_PUBLICATION, key=day, number=number)


FAKE_PREVIEW = Preview(
    key=date(2026, 11, 16),
    title="嵌入式AI简报 (2026-11-16)",
    content_hash="c0ffee",
    recipients=53,
    renderings=1,
    empty=1,
    listed=(
        *(
            Recipient("telegram", f"{1000 + n}", "private", "telegram;all;format=full;lang=zh", 1)
            for n in range(51)
        ),
        Recipient("wechat", "o-2", "user", "wechat;sections=papers;format=digest;lang=en", 2),
    ),
    held_at=T0,
    unfinished=(
        Defect("empty_section", 40, "论文", "papers"),
        Defect("warning", 12, "unclosed '[' in item"),
        Defect("no_entries"),
    ),
)


class FakeCorrections:
    """A correction preview per date, so that every answer is said in both languages:
    none (the newest published issue) a correction message; 2026-11-16 edits in place,
    not settled yet, one entry removed; then each reason there is nothing to correct."""

    STATES: ClassVar[dict[date, CorrectionState]] = {
        date(2026, 11, 2): "off",
        date(2026, 10, 19): "switched_off",
        date(2026, 11, 9): "window_passed",
        date(2026, 10, 26): "unpublished",
        date(2026, 11, 23): "current",
        date(2020, 1, 1): "unknown",
    }

    def __init__(self) -> None:
        self.calls: list[date | int | None] = []
        self.series: list[str] = []  # each call's series

    async def preview(
        self, key: date | int | None, now: datetime, series: str = ""
    ) -> CorrectionPreview:
        self.calls.append(key)
        self.series.append(series)
        if isinstance(key, int):  # a numbered series' issue: #50 unpublished, no other
            known = key == 50
            return CorrectionPreview(None, "unpublished" if known else "unknown", 48, number=key)
        if key in self.STATES:
            return CorrectionPreview(key, self.STATES[key], 48, T0)
        changes = [
            EntryChange(
                "量化感知训练实践：让MobileNet在INT8下不掉点", "https://example.com/q", False, True
            ),
            EntryChange("alibaba/MNN: MNN 3.2 发布", "https://example.com/m", True, True),
        ]
        day = key or date(2026, 11, 16)
        issue = Issue(SERIES, day, f"嵌入式AI简报 ({day})")
        if key is None:
            plan = CorrectionPlan(day, 1, edits=0, messages=3, operations=3, changes=changes)
            return CorrectionPreview(day, "planned", 48, T0, plan=plan, issue=issue)
        plan = CorrectionPlan(day, 1, edits=1, messages=0, operations=1, changes=changes * 6)
        settles = now + timedelta(minutes=20)
        return CorrectionPreview(day, "planned", 48, T0, settles, plan, issue)


FAKE_PUBLICATION = Publication(
    date(2026, 11, 2), 1, "c0ffee", deliveries=1, renderings=2, empty=0, repaired=()
)


async def ingest_samples(
    sessions: async_sessionmaker[AsyncSession], samples: Path, taxonomy: Taxonomy
) -> None:
    for path in sorted(samples.glob("*.md")):
        issue = parse_issue(
            decode_briefing(path.read_bytes(), path.name), path.name, SERIES, taxonomy
        )
        async with sessions.begin() as session:
            await save_issue(session, issue, T0, on_saved=index_issue)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def corrections() -> FakeCorrections:
    return FakeCorrections()


@pytest.fixture
async def deps(
    session_factory: async_sessionmaker[AsyncSession],
    samples_dir: Path,
    clock: FakeClock,
    publisher: FakePublisher,
    corrections: FakeCorrections,
) -> CoreDeps:
    taxonomy = Taxonomy.default()
    await ingest_samples(session_factory, samples_dir, taxonomy)
    return CoreDeps(
        sessions=session_factory,
        series=SERIES,
        taxonomy=taxonomy,
        settings=Settings(),
        clock=clock,
        bot_username=BOT,
        publisher=publisher,
        corrections=corrections,
        flood=FloodPolicy(per_minute=600, burst=100),  # flood tests build their own core
    )


@pytest.fixture
def core(deps: CoreDeps) -> Core:
    return Core(deps)


class Client:
    """Sends texts and presses buttons as one user in one chat; keeps the last buttons."""

    def __init__(
        self,
        core: Core,
        chat: Chat = PRIVATE,
        user_id: str = "42",
        language_code: str | None = "zh-hans",
        is_admin: bool = False,
    ) -> None:
        self.core = core
        self.chat = chat
        self.user_id = user_id
        self.language_code = language_code
        self.is_admin = is_admin
        self.last: list[Reply] = []

    def _incoming(self, text: str) -> Incoming:
        return Incoming(self.chat, self.user_id, text, self.language_code, self.is_admin)

    async def send(self, text: str) -> list[Reply]:
        self.last = await self.core.handle_text(self._incoming(text))
        return self.last

    async def press(self, button: Button | str) -> list[Reply]:
        data = button.data if isinstance(button, Button) else button
        self.last = await self.core.handle_button(self._incoming(data))
        return self.last

    def button(self, label_part: str) -> Button:
        found = [b for b in buttons(self.last) if label_part in b.text]
        assert found, f"no button with {label_part!r} in {[b.text for b in buttons(self.last)]}"
        return found[0]


def raw_of(replies: Iterable[Reply]) -> str:
    return "\n".join(m.text for r in replies for m in r.messages)


def text_of(replies: Iterable[Reply]) -> str:
    """The replies as a reader sees them: Telegram HTML tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", raw_of(replies)))


def buttons(replies: Iterable[Reply]) -> list[Button]:
    return [b for r in replies for row in r.buttons for b in row]


@pytest.fixture
def client(core: Core) -> Client:
    return Client(core)


@pytest.fixture
def deps_empty_core(session_factory: async_sessionmaker[AsyncSession], clock: FakeClock) -> Core:
    """A core over an empty archive."""
    return Core(
        CoreDeps(
            sessions=session_factory,
            series=SERIES,
            taxonomy=Taxonomy.default(),
            settings=Settings(),
            clock=clock,
            bot_username=BOT,
        )
    )
