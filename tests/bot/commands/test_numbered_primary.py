"""A numbered series (issues keyed by number, without dates) as the only series, or the
first of several: /latest, /issue NUMBER, /issues and their buttons work by number, in
Chinese and English; a number or word that names no issue is answered in numbers, with
a bounded echo. Buttons already in chats (dates) still decode. Both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import CALLBACK_DATA_MAX_BYTES, Chat, Core, CoreDeps, FloodPolicy
from bot.commands.buttons import (
    MAX_INDEX,
    MAX_ISSUE_NUMBER,
    IssuePart,
    OpenIssue,
    Payload,
    decode,
)
from bot.commands.deps import SeriesChoice
from bot.config import Settings
from bot.runtime import build_taxonomy
from briefings.model import Series
from briefings.parser import decode_briefing, parse_with_layout
from briefings.presets import THIS_WEEK_IN
from briefings.taxonomy import Taxonomy
from storage.issues import save_issue
from storage.search import index_issue
from tests.bot.commands.conftest import (
    BOT,
    SERIES,
    T0,
    Client,
    FakeClock,
    buttons,
    ingest_samples,
    raw_of,
    text_of,
)
from tests.conftest import ROOT

SCRIPTED = FloodPolicy(per_minute=600, burst=100)  # a test types faster than a person
WIDGETS = Series("widgets", "This Week in Widgets")
WIDGET_FILES = ROOT / "examples" / "two-series" / "widgets"
SETTINGS = Settings.model_validate(
    {
        "series": {
            "slug": "widgets",
            "title": "This Week in Widgets",
            "languages": ["en"],
            "layout": "this-week-in",
        }
    }
)


def made_up(number: int) -> str:
    """An older issue of the weekly, written for these tests (paging needs more than 8)."""
    return f"""# This Week in Widgets #{number}

Issue {number} of the weekly.

---

## Tool of the week

- [widget-tool-{number}](https://example.com/widgets/{number}/tool)
  Summary: tool number {number}.
"""


async def ingest_widgets(
    sessions: async_sessionmaker[AsyncSession], taxonomy: Taxonomy, *, older: int = 0
) -> None:
    """#50 and #51 of the example weekly (undated), and `older` made-up issues before."""
    texts = [(f"issue-{n}.md", made_up(n)) for n in range(50 - older, 50)]
    texts += [(p.name, decode_briefing(p.read_bytes(), p.name)) for p in WIDGET_FILES.glob("*.md")]
    for name, text in texts:
        parsed = parse_with_layout(text, name, WIDGETS, taxonomy, THIS_WEEK_IN)
        assert parsed.issue.key is None and parsed.issue.number is not None
        async with sessions.begin() as session:
            await save_issue(session, parsed.issue, T0, on_saved=index_issue)


def numbered_deps(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> CoreDeps:
    return CoreDeps(
        sessions=sessions,
        series=WIDGETS,
        taxonomy=build_taxonomy(SETTINGS),
        settings=SETTINGS,
        clock=clock,
        bot_username=BOT,
        flood=SCRIPTED,
    )


@pytest.fixture
async def only(session_factory: async_sessionmaker[AsyncSession], clock: FakeClock) -> Core:
    """The weekly as the one `[series]`, with #40..#51 archived."""
    deps = numbered_deps(session_factory, clock)
    await ingest_widgets(session_factory, deps.taxonomy, older=10)
    return Core(deps)


@pytest.fixture
async def first(
    session_factory: async_sessionmaker[AsyncSession], clock: FakeClock, samples_dir: Path
) -> Core:
    """The weekly first of two `[[series]]`, the dated Embedded AI briefing second."""
    deps = numbered_deps(session_factory, clock)
    await ingest_widgets(session_factory, deps.taxonomy)
    dated = Taxonomy.default()
    await ingest_samples(session_factory, samples_dir, dated)
    catalog = (SeriesChoice(WIDGETS, deps.taxonomy, ""), SeriesChoice(SERIES, dated, "embedded-ai"))
    return Core(replace(deps, catalog=catalog))


def data_of(client: Client) -> list[str]:
    return [b.data for b in buttons(client.last)]


# --- /latest and its buttons ------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "whole", "contents"),
    [("en", "Everything", "Contents"), ("zh-hans", "全文", "目录")],
)
async def test_latest_shows_the_overview_with_buttons_by_number(
    only: Core, language: str, whole: str, contents: str
) -> None:
    client = Client(only, language_code=language)
    text = text_of(await client.send("/latest"))
    assert "This Week in Widgets #51" in text and contents in text
    assert "None" not in text
    assert data_of(client) == [
        "x:n51:updates-from-the-community",
        "x:n51:articles",
        "x:n51:tool-of-the-week",
        "x:n51:*",
    ]
    section = text_of(await client.press(client.button("Tool of the week")))
    assert "widget-dbg" in section and "Profiling widgets" not in section
    everything = text_of(await client.press("x:n51:*"))
    assert "widget-dbg" in everything and "Profiling widgets" in everything


async def test_a_section_button_by_position_and_stale_buttons(only: Core) -> None:
    client = Client(only, language_code="en")
    assert "widget-dbg" in text_of(await client.press("x:n51:#2"))  # the third section
    expired = "This button has expired; please send the command again."
    assert text_of(await client.press("x:n51:#3")) == expired  # #51 has three sections
    assert text_of(await client.press("x:n7:*")) == expired  # no issue #7
    assert text_of(await client.press("o:n7")) == expired
    assert text_of(await client.press("x:n51:papers")) == expired  # not a section of #51
    # buttons sent when issues were named by date: no such issue in a numbered series
    assert text_of(await client.press("o:20261116")) == expired
    assert text_of(await client.press("x:20261116:*")) == expired


# --- /issue NUMBER ----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["/issue 50", "/issue #50", "/issue 第50期", "/issue ５０"])
async def test_issue_by_number_opens_its_overview(only: Core, typed: str) -> None:
    client = Client(only, language_code="en")
    text = text_of(await client.send(typed))
    assert "This Week in Widgets #50" in text and "Contents" in text
    assert "x:n50:*" in data_of(client)
    section = text_of(await client.press(client.button("Updates from the community")))
    assert "Widget runtime 3.1 released" in section and "widget-fmt" not in section


async def test_issue_by_number_with_a_section(only: Core) -> None:
    client = Client(only, language_code="en")
    text = text_of(await client.send("/issue 50 tool of the week"))
    assert "widget-fmt" in text and "Widget runtime" not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", {
            "/issue 7": "There is no issue #7.",
            "/issue 1000000000000": "There is no issue #1000000000000.",
            "/issue -1": "“-1” is not an issue number; send a number, e.g. /issue 51.",
            "/issue tomorrow": "“tomorrow” is not an issue number; send a number, e.g. /issue 51.",
            "/issue": "Usage: /issue NUMBER, e.g. /issue 51. Send /issues for past issues.",
        }),
        ("zh-hans", {
            "/issue 7": "没有第 7 期。",
            "/issue 1000000000000": "没有第 1000000000000 期。",
            "/issue -1": "“-1”不是期号，请发送期号，例如 /issue 51。",
            "/issue": "用法：/issue 期号，例如 /issue 51。发送 /issues 查看往期。",
        }),
    ],
)  # fmt: skip
async def test_what_names_no_issue_is_answered_in_numbers(
    only: Core, language: str, expected: dict[str, str]
) -> None:
    client = Client(only, language_code=language)
    for typed, answer in expected.items():
        assert text_of(await client.send(typed)) == answer, typed


async def test_a_huge_argument_comes_back_clipped(only: Core) -> None:
    client = Client(only, language_code="en")
    for typed in ("/issue " + "9" * 100_000, "/issue x" + "y" * 100_000):
        text = text_of(await client.send(typed))
        assert len(text) < 200 and "…" in text, text[:300]
        assert "date" not in text


# --- /issues and its buttons ------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "older", "line"),
    [("en", "Older", "#51 · 4 entries"), ("zh-hans", "更早", "#51 · 4 条")],
)
async def test_issues_lists_by_number_and_pages(
    only: Core, language: str, older: str, line: str
) -> None:
    client = Client(only, language_code=language)
    text = text_of(await client.send("/issues"))
    assert line in text and "None" not in text
    opened = [d for d in data_of(client) if d.startswith("o:")]
    assert opened == [f"o:n{n}" for n in range(51, 43, -1)]
    assert client.button("#50 (3)").data == "o:n50"
    page = await client.press(client.button(older))
    assert page[0].edit
    on_page = [d for d in data_of(client) if d.startswith("o:")]
    assert on_page == ["o:n43", "o:n42", "o:n41", "o:n40"]
    overview = text_of(await client.press(client.button("#41")))
    assert "This Week in Widgets #41" in overview and "Issue 41 of the weekly." in overview
    section = text_of(await client.press(client.button("Tool of the week")))
    assert "tool number 41" in section


async def test_without_buttons_the_hints_name_numbers(only: Core) -> None:
    wechat = Client(only, chat=Chat("wechat", "openid-1", "user"), language_code="en")
    text = text_of(await wechat.send("/issues"))
    assert "#51 · 4 entries" in text
    assert "Usage: /issue NUMBER, e.g. /issue 51." in text
    overview = text_of(await wechat.send("/issue 50"))
    assert "To read one section, send /issue 50 " in overview


# --- the weekly first of two series -----------------------------------------------------


async def test_first_of_two_series_by_number_and_the_dated_one_by_date(first: Core) -> None:
    client = Client(first, language_code="en")
    text = text_of(await client.send("/latest"))
    assert "This Week in Widgets #51" in text and "x:n51:*" in data_of(client)
    assert "This Week in Widgets #51" in text_of(await client.send("/issue 51"))
    assert text_of(await client.send("/issue 1000000000000")) == "There is no issue #1000000000000."
    # the dated series second: by date, whole (the overview's buttons name the first series)
    dated = text_of(await client.send("/issue embedded-ai 2026-11-16"))
    assert "嵌入式AI简报 (2026-11-16)" in dated and data_of(client) == []
    assert "“x” is not a date" in text_of(await client.send("/issue embedded-ai x"))
    usage = text_of(await client.send("/issue embedded-ai"))
    assert usage.startswith("Usage: /issue embedded-ai YYYY-MM-DD, e.g. /issue embedded-ai ")


async def test_a_numbered_second_series_answers_in_numbers(
    session_factory: async_sessionmaker[AsyncSession], clock: FakeClock, samples_dir: Path
) -> None:
    """`/issue widgets 1000000000000` and `/issue widgets -1` with the weekly second."""
    dated = Taxonomy.default()
    await ingest_samples(session_factory, samples_dir, dated)
    weekly = build_taxonomy(SETTINGS)
    await ingest_widgets(session_factory, weekly)
    deps = CoreDeps(
        sessions=session_factory,
        series=SERIES,
        taxonomy=dated,
        settings=Settings(),
        clock=clock,
        bot_username=BOT,
        flood=SCRIPTED,
        catalog=(SeriesChoice(SERIES, dated, ""), SeriesChoice(WIDGETS, weekly, "widgets")),
    )
    en = Client(Core(deps), language_code="en")
    answers = {
        "/issue widgets 1000000000000": "There is no issue #1000000000000.",
        "/issue widgets -1": "“-1” is not an issue number; send a number, e.g. /issue widgets 51.",
        "/issue widgets": (
            "Usage: /issue widgets NUMBER, e.g. /issue widgets 51. Send /issues for past issues."
        ),
    }
    for typed, answer in answers.items():
        assert text_of(await en.send(typed)) == answer, typed
    zh = Client(Core(deps))
    assert raw_of(await zh.send("/issue widgets -1")) == (
        "“-1”不是期号，请发送期号，例如 /issue widgets 51。"
    )
    # the dated primary series is as it was
    assert "“51”不是日期" in text_of(await zh.send("/issue 51"))
    assert text_of(await zh.send("/issue")).startswith("用法：/issue YYYY-MM-DD")


# --- the payloads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "data"),
    [
        (OpenIssue(51), "o:n51"),
        (IssuePart(51), "x:n51:*"),
        (IssuePart(0, section="tool-of-the-week"), "x:n0:tool-of-the-week"),
        (IssuePart(MAX_ISSUE_NUMBER, index=MAX_INDEX), f"x:n{MAX_ISSUE_NUMBER}:#{MAX_INDEX}"),
        (OpenIssue(date(2026, 11, 16)), "o:20261116"),  # buttons already in chats
        (IssuePart(date(2026, 11, 16), section="papers"), "x:20261116:papers"),
    ],
)
def test_an_issue_by_number_or_date_round_trips(payload: Payload, data: str) -> None:
    assert payload.encode() == data
    assert decode(data) == payload


@pytest.mark.parametrize(
    "data",
    [
        *("o:n", "o:n-1", f"o:n{MAX_ISSUE_NUMBER + 1}", "o:n5_1", "o:n５１", "o:n51:x"),
        *("x:n51", "x:n51:", "x:nx:*", "o:N51", "o:51"),
    ],
)
def test_forged_numbers_decode_to_none(data: str) -> None:
    assert decode(data) is None


@given(number=st.integers(0, MAX_ISSUE_NUMBER), key=st.text(min_size=1, max_size=80))
def test_any_section_of_any_number_fits_and_round_trips(number: int, key: str) -> None:
    payload = IssuePart.of_section(number, key, MAX_INDEX)
    data = payload.encode()
    assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
    assert decode(data) == payload
    assert payload.issue == number and (payload.section == key or payload.index == MAX_INDEX)
