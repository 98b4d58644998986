"""Forged buttons, absurd numbers and huge names get a normal, small reply.

"Normal" means the handler answered: the core's catch-all (a logged traceback and
"something went wrong") never fires, and what a reply quotes back stays short.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot import i18n
from bot.commands import Chat, Core
from bot.commands.browse import ISSUES_PER_PAGE
from bot.commands.search import query_hash
from tests.bot.commands.conftest import Client, raw_of, text_of

HUGE = str(10**400)
INT64_PLUS_ONE = str(2**63)
EXPIRED = i18n.t("zh", "expired_button")
# A reply naming a user's input is this much bigger than the same reply without it.
ECHO_BUDGET = 6 * (i18n.ECHO_CHARS + 4) + 40


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR, logger="bot")
    yield
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, f"a handler raised: {[r.getMessage() for r in failures]}"


def assert_normal(text: str) -> None:
    assert text and i18n.t("zh", "error") not in text and i18n.t("en", "error") not in text


# --- forged and stale callback data -------------------------------------------------------

FORGED = [
    # issue list offsets (SQLite: OverflowError; PostgreSQL: bigint out of range)
    f"ls:{INT64_PLUS_ONE}",
    "ls:99999999999999999999",
    "ls:" + "9" * 61,
    "ls:-1",
    "ls:²",
    "ls:١٢",
    "ls:8:8",
    "ls:",
    "ls",
    # search pages
    f"q:{query_hash('量化')}:{INT64_PLUS_ONE}",
    f"q:{query_hash('量化')}:0",
    f"q:{query_hash('量化')}:-3",
    f"q:{query_hash('量化')}:²",
    f"q:{query_hash('量化')}:2:2",
    "q:../../etc:2",
    "q::2",
    # issue and section ids
    "o:99999999",
    "o:00010101",
    "o:²⁰²⁶¹¹¹⁶",
    "o:20261116:extra",
    "o:",
    "x:20261116:#" + "9" * 40,
    "x:20261116:#-1",
    "x:20261116:#²",
    "x:20261116:#",
    "x:20261116:nosuchsection",
    "x:20000101:*",  # an issue that does not exist (deleted, or never did)
    "x:20261116",
    "x:20261116:*:*",
    # subscription toggles
    "t:s#:" + "9" * 40,
    "t:t#:-1",
    "t:s#:²",
    "t:s:nosuch",
    "t:a:a",
    "t",
    # settings
    "g:p:2",
    "g:l:fr",
    "g:f",
    # not ours at all
    "zz:1",
    ":",
    "::::",
    "",
    "x" * 1_000_000,
    "ls:" + HUGE,
    "\x00:\x00",
    "\ud800",
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_callback_data_is_an_expired_button(client: Client, data: str) -> None:
    await client.send("/start")
    text = text_of(await client.press(data))
    assert_normal(text)
    assert EXPIRED in text


async def test_the_real_buttons_still_work(client: Client) -> None:
    """The strict decoding refuses nothing our own buttons carry."""
    text = text_of(await client.press(f"ls:{ISSUES_PER_PAGE}"))
    assert EXPIRED not in text and "没有更早的了" in text  # only two sample issues
    assert "2026-11-16" in text_of(await client.press("o:20261116"))
    assert "BiViT-Edge" in text_of(await client.press("x:20261116:#2"))
    await client.send("/search 量化")
    assert EXPIRED not in text_of(await client.press(client.button("下一页")))
    assert "✅" in text_of(await client.press("t:s#:0"))


async def test_a_page_far_beyond_the_results_is_the_end_not_an_error(client: Client) -> None:
    await client.send("/search 量化")
    text = text_of(await client.press(f"q:{query_hash('量化')}:10000"))
    assert "没有更多结果" in text


# --- numbers typed in commands ------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "/issue 0000-01-01",
        "/issue 0001-01-01",
        "/issue 9999-12-31",
        "/issue 99999-01-01",
        f"/issue {HUGE}",
        "/issue 2026-13-45",
        "/issue -2026-11-16",
        "/issue ２０２６-１１-１６",
        "/latest 0001-01-01",
        "/latest 9999-12-31 papers",
        f"/latest {HUGE}",
        f"/search {HUGE}",
        "/search year:0000",
        "/search year:9999",
        "/search date:0001-01-01..9999-12-31",
        "/search date:9999-12..",
        f"/search date:{HUGE}",
        f"/settings {HUGE}",
        f"/start {HUGE}",
    ],
)
async def test_absurd_numbers_in_commands_get_a_clear_reply(client: Client, command: str) -> None:
    text = text_of(await client.send(command))
    assert_normal(text)
    assert HUGE not in text


async def test_latest_with_a_date_shows_that_issue(client: Client) -> None:
    text = text_of(await client.send("/latest 2026-11-02"))
    assert "嵌入式AI简报 (2026-11-02)" in text
    assert "没有 2000-01-01 这一期" in text_of(await client.send("/latest 2000-01-01"))


async def test_admin_dates_out_of_range(core: Core) -> None:
    admin = Client(core, is_admin=True)
    for command in (f"/publish {HUGE}", "/preview 0000-00-00", "/publish 99999-1-1"):
        text = text_of(await admin.send(command))
        assert_normal(text)
        assert "YYYY-MM-DD" in text


# --- bounded echo -------------------------------------------------------------------------

MANY = " ".join(f"zz{i}" for i in range(10_000))
BIG = "名" * 100_000


def _baseline_len(replies: list) -> int:  # type: ignore[type-arg]
    return len(raw_of(replies))


@pytest.mark.parametrize(
    ("template", "probe"),
    [
        ("/subscribe {}", "/subscribe zz"),
        ("/unsubscribe {}", "/unsubscribe zz"),
        ("/settings {}", "/settings zz"),
        ("/latest {}", "/latest zz"),
        ("/issue 2026-11-16 {}", "/issue 2026-11-16 zz"),
        ("/issue {}", "/issue zz"),
        ("/start {}", "/start zz"),
    ],
)
@pytest.mark.parametrize("payload", [MANY, BIG], ids=["10000-names", "100KB-name"])
async def test_replies_quote_back_a_bounded_amount(
    client: Client, template: str, probe: str, payload: str
) -> None:
    """The reply to a huge input is at most a few short quotes longer than to a tiny one."""
    baseline = _baseline_len(await client.send(probe))
    replies = await client.send(template.format(payload))
    text = raw_of(replies)
    assert_normal(text)
    assert len(text) <= baseline + ECHO_BUDGET, text[:500]


async def test_ten_thousand_unknown_names_are_counted_not_listed(client: Client) -> None:
    text = text_of(await client.send(f"/subscribe papers {MANY}"))
    assert "已订阅：论文" in text
    assert "“zz0”、“zz1”、“zz2”、“zz3”、“zz4” 及其他 9995 项" in text
    assert "zz5" not in text


async def test_unknown_names_in_english_say_and_n_more(core: Core) -> None:
    client = Client(core, language_code="en")
    text = text_of(await client.send(f"/settings {MANY}"))
    assert "Unknown setting: “zz0”, “zz1”, “zz2”, “zz3”, “zz4” and 9995 more." in text


async def test_a_huge_name_is_clipped_with_an_ellipsis(client: Client) -> None:
    text = text_of(await client.send(f"/latest {BIG}"))
    assert "名" * (i18n.ECHO_CHARS - 1) + "…" in text
    assert "名" * i18n.ECHO_CHARS not in text


async def test_unknown_command_and_search_echo_are_clipped(core: Core) -> None:
    client = Client(core, chat=Chat("console", "c", "private"))
    text = text_of(await client.send("/" + "z" * 64))
    assert "/" + "z" * 38 + "…" in text and "z" * 39 not in text
    query = "词" * 150  # under the 200-character query limit, found nowhere
    text = text_of(await client.send(f"/search {query}"))
    assert "没有找到" in text and "词" * 40 not in text


async def test_a_text_platform_reply_stays_small_for_a_huge_chinese_alias(core: Core) -> None:
    client = Client(core, chat=Chat("wechat", "o-1", "user"), user_id="o-1")
    for text in (f"订阅{BIG}", f"最新 {BIG}", f"设置 {MANY}"):
        replies = await client.send(text)
        assert_normal(text_of(replies))
        assert len(raw_of(replies)) < 2_000
