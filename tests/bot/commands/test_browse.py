"""/latest, /issue, /issues and the section buttons, on the sample briefings."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import CALLBACK_DATA_MAX_BYTES, Chat, Core
from bot.commands.browse import parse_date
from briefings.model import Entry, Issue, Section
from storage.issues import save_issue
from storage.search import index_issue
from tests.bot.commands.conftest import SERIES, T0, Client, buttons, text_of


async def test_latest_is_an_overview_with_a_button_per_section(client: Client) -> None:
    replies = await client.send("/latest")
    text = text_of(replies)
    assert "嵌入式AI简报 (2026-11-16)" in text
    assert "导读：本次11条" in text  # the issue's 导读
    assert "目录" in text and "论文 — 3 条" in text and "开源项目 — 2 条" in text
    assert "业界新闻 (3)" not in text  # counts are on the buttons, not repeated as labels
    labels = [b.text for b in buttons(replies)]
    assert labels == ["业界新闻 (3)", "应用 (1)", "论文 (3)", "开源项目 (2)", "博文 (2)", "全文"]
    assert "BiViT-Edge" not in text  # entries come with the buttons


async def test_section_button_sends_that_section_only(client: Client) -> None:
    await client.send("/latest")
    text = text_of(await client.press(client.button("论文")))
    assert "BiViT-Edge" in text and "HW-NAS-Mobile" in text and "Distilling Detectors" in text
    assert "Paddle-Lite" not in text and "MLIR方言入门" not in text


async def test_whole_issue_button(client: Client) -> None:
    await client.send("/latest")
    text = text_of(await client.press(client.button("全文")))
    assert "BiViT-Edge" in text and "MLIR方言入门" in text and "寒武纪" in text  # quick news too


async def test_latest_with_a_section_name(client: Client) -> None:
    for name in ("papers", "论文", "paper"):
        text = text_of(await client.send(f"/latest {name}"))
        assert "BiViT-Edge" in text and "Paddle-Lite" not in text


async def test_latest_with_a_topic_sends_matching_entries_from_all_sections(client: Client) -> None:
    text = text_of(await client.send("/latest 编译器"))
    assert "MLIR方言入门" in text
    assert "离线翻译耳机" not in text


async def test_a_topic_without_entries_in_that_issue(client: Client) -> None:
    text = text_of(await client.send("/issue 2026-11-02 nas"))
    assert "2026-11-02 这一期没有“网络结构搜索”的内容" in text
    text = text_of(await client.send("/latest nas"))
    assert "HW-NAS-Mobile" in text and "BiViT-Edge" not in text


async def test_latest_with_an_unknown_name_lists_the_sections(client: Client) -> None:
    text = text_of(await client.send("/latest 天气"))
    assert "“天气”不是这一期的栏目或标签" in text
    assert "papers（论文）" in text and "blogs（博文）" in text


async def test_english_overview_uses_english_names(core: Core) -> None:
    replies = await Client(core, language_code="en").send("/latest")
    assert "Contents" in text_of(replies)
    assert [b.text for b in buttons(replies)][:3] == [
        "Industry news (3)",
        "Applications (1)",
        "Papers (3)",
    ]


async def test_issue_by_date_and_by_date_with_section(client: Client) -> None:
    text = text_of(await client.send("/issue 2026-11-02"))
    assert "2026-11-02" in text and "目录" in text
    assert buttons(client.last)[0].data == "x:20261102:news"
    text = text_of(await client.send("/issue 2026/11/02 papers"))
    assert "CalibFree-Q" in text
    assert "BiViT-Edge" not in text  # that is the newer issue


async def test_issue_of_a_missing_date_suggests_the_nearest(client: Client) -> None:
    text = text_of(await client.send("/issue 2026-11-05"))
    assert "没有 2026-11-05 这一期" in text
    assert "相近的几期：2026-11-02、2026-11-16" in text
    text = text_of(await client.press(client.button("2026-11-02")))
    assert "2026-11-02" in text and "目录" in text


async def test_issue_usage_and_bad_dates(client: Client) -> None:
    assert "用法：/issue YYYY-MM-DD" in text_of(await client.send("/issue"))
    assert "“tomorrow”不是日期" in text_of(await client.send("/issue tomorrow"))
    assert "“2026-02-30”不是日期" in text_of(await client.send("/issue 2026-02-30"))


async def test_issues_lists_recent_issues_with_buttons(client: Client) -> None:
    replies = await client.send("/issues")
    text = text_of(replies)
    assert text.index("2026-11-16 · 11 条") < text.index("2026-11-02 · 12 条")
    assert [b.data for b in buttons(replies)] == ["o:20261116", "o:20261102"]
    overview = text_of(await client.press(client.button("2026-11-02")))
    assert "端侧大模型INT4量化" in overview and "目录" in overview


async def test_issues_pages_with_an_older_button(client: Client, core: Core) -> None:
    async with core.deps.sessions.begin() as session:
        for day in range(1, 10):
            issue = Issue(
                SERIES,
                date(2026, 1, day),
                f"嵌入式AI简报 (2026-01-0{day})",
                sections=(Section("news", "业界新闻", 0, (Entry(0, f"新闻 {day}"),)),),
                content_hash=f"h{day}",
            )
            await save_issue(session, issue, T0, on_saved=index_issue)
    first = await client.send("/issues")
    dates = [b.text.split()[0] for b in buttons(first) if b.data.startswith("o:")]
    assert len(dates) == 8
    older = await client.press(client.button("更早"))
    assert older[0].edit
    more = [b.text.split()[0] for b in buttons(older) if b.data.startswith("o:")]
    assert more == ["2026-01-03", "2026-01-02", "2026-01-01"]
    assert not set(dates) & set(more)


async def test_empty_archive(deps_empty_core: Core) -> None:
    client = Client(deps_empty_core)
    assert "还没有任何一期简报" in text_of(await client.send("/latest"))
    assert "还没有任何一期简报" in text_of(await client.send("/issues"))


async def test_wechat_overview_explains_how_to_get_a_section(core: Core) -> None:
    wechat = Client(core, chat=Chat("wechat", "openid-1", "user"))
    text = text_of(await wechat.send("最新"))
    assert "发送 最新 业界新闻" in text
    assert "按钮" not in text  # WeChat text replies have no buttons to tap
    text = text_of(await wechat.send("最新 论文"))
    assert "BiViT-Edge" in text
    assert text_of(await wechat.send("latest papers")) == text  # English words work too


async def test_long_section_keys_still_fit_in_callback_data(client: Client, core: Core) -> None:
    heading = "A Remarkably Long English Section Heading That Keeps Going On"
    key = "a-remarkably-long-english-section-heading-that-keeps-going-on"
    issue = Issue(
        SERIES,
        date(2026, 12, 1),
        "嵌入式AI简报 (2026-12-01)",
        sections=(Section(key, heading, 0, (Entry(0, "Long section entry"),)),),
        content_hash="long",
    )
    async with core.deps.sessions.begin() as session:
        await save_issue(session, issue, T0, on_saved=index_issue)
    replies = await client.send("/latest")
    button = client.button("A Remarkably Long")
    assert len(button.data.encode()) <= CALLBACK_DATA_MAX_BYTES
    assert text_of(await client.press(button)).count("Long section entry") == 1
    assert all(len(b.data.encode()) <= CALLBACK_DATA_MAX_BYTES for b in buttons(replies))


async def test_stale_buttons_are_answered_politely(client: Client) -> None:
    for data in (
        "x:20990101:papers",
        "x:20261116:nosuch",
        "x:2026:*",
        "o:bad",
        "zz:1",
        "x:20261116:#99",
    ):
        assert "按钮已失效" in text_of(await client.press(data)), data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-16", date(2026, 11, 16)),
        ("2026/1/2", date(2026, 1, 2)),
        ("20261116", date(2026, 11, 16)),
        ("2026年11月16日", date(2026, 11, 16)),
        ("２０２６－１１－１６", date(2026, 11, 16)),
        ("2026-13-01", None),
        ("next week", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


async def test_latest_in_english_names_sections_in_english_with_plurals(core: Core) -> None:
    english = Client(core, language_code="en")
    text = text_of(await english.send("/latest"))
    assert "• Applications — 1 entry" in text and "• Papers — 3 entries" in text
    assert "11 entries in total" in text
    assert "业界新闻" not in text and "— 1 entries" not in text
    section = text_of(await english.press(english.button("Papers")))
    assert "Papers" in section and "论文" not in section
    chinese = text_of(await Client(core).send("/latest"))
    assert "• 应用 — 1 条" in chinese and "共 11 条" in chinese
