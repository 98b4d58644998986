"""The pieces without I/O: packing, dedup, limits, tag names, one-message mass renderings."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from bot.commands import Reply
from bot.platforms.wechat.campaign import client_msg_id
from bot.platforms.wechat.tags import TAG_NAME_MAX_BYTES, part_names, tag_name
from bot.platforms.wechat_common.crypto import BadSignature, OfficialCodec, Stale
from bot.platforms.wechat_common.replies import SUCCESS, AnswerBook, ServiceBudget, pack_texts
from bot.platforms.wecom.limits import SlidingLimiter
from bot.publish.mass import render_part
from briefings.model import Entry, Issue, Section, Series
from briefings.taxonomy import Taxonomy
from formatters import Message, WeChatRenderer
from tests.fakes.wechat_mp import DEFAULT_APPID
from tests.wechat.helpers import TOKEN, WECHAT_MAX, official_verification, sign, utf8_len


def reply(*texts: str) -> Reply:
    return Reply(tuple(Message(t, "text", utf8_len(t), "bytes") for t in texts))


def test_pack_texts_merges_what_fits_and_keeps_order() -> None:
    small = ["一" * 100, "二" * 100, "三" * 600]  # 300 + 300 + 1800 bytes
    assert pack_texts([reply(*small)], 2048) == ["一" * 100 + "\n\n" + "二" * 100, "三" * 600]
    assert pack_texts([reply("a"), reply("", "b")], 2048) == ["a\n\nb"]


async def test_answer_book_runs_once_and_answers_passively_in_time() -> None:
    book, runs, late = AnswerBook(), [], []

    async def work() -> list[str]:
        runs.append(1)
        return ["first", "second"]

    async def deliver(texts: list[str]) -> None:
        late.append(texts)

    assert await book.answer("k", work, 1.0, deliver) == "first"
    assert await book.answer("k", work, 1.0, deliver) == "first"
    await book.drain()
    assert runs == [1] and late == [["second"]]


async def test_answer_book_hands_slow_work_to_late_delivery_once() -> None:
    book, late = AnswerBook(), []
    release = asyncio.Event()

    async def work() -> list[str]:
        await release.wait()
        return ["only"]

    async def deliver(texts: list[str]) -> None:
        late.append(texts)

    assert await book.answer("k", work, 0.01, deliver) == SUCCESS
    release.set()
    await asyncio.sleep(0)
    assert await book.answer("k", work, 1.0, deliver) == SUCCESS  # a retry after the deadline
    await book.drain()
    assert late == [["only"]]


def test_service_budget_follows_the_interaction_kind() -> None:
    now = [0.0]
    budget = ServiceBudget(clock=lambda: now[0])
    assert not budget.take("o")
    budget.opened("o", "event")
    assert [budget.take("o") for _ in range(4)] == [True, True, True, False]
    budget.opened("o", "message")
    assert sum(budget.take("o") for _ in range(9)) == 5
    budget.opened("o", "event")
    now[0] = 61
    assert not budget.take("o")


async def test_sliding_limiter_waits_for_the_window() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = SlidingLimiter([(2, 60), (3, 3600)], clock=lambda: now[0], sleep=sleep, margin=1)
    times = []
    for _ in range(4):
        await limiter.acquire(["u1", "u2"])
        times.append(now[0])
    assert times == [0, 0, 61, 3601]


def test_tag_names_fit_and_are_unique() -> None:
    names = [tag_name(p) for p in part_names(Taxonomy.default())]
    names.append(tag_name("topic:" + "很长的标签名" * 10))
    assert len(set(names)) == len(names)
    assert all(utf8_len(n) <= TAG_NAME_MAX_BYTES for n in names)
    assert utf8_len(client_msg_id(2**40, "topic:" + "x" * 200)) <= 64


def big_issue(entries: int) -> Issue:
    made = tuple(
        Entry(
            position=i + 1,
            title=f"第{i + 1}篇：面向端侧设备的低比特量化与模型压缩方法研究",
            url=f"https://example.com/papers/{i + 1:04d}/low-bit-quantization",
            summary="摘要" * 40,
            topics=("quantization",),
        )
        for i in range(entries)
    )
    section = Section("papers", "论文", 1, made)
    return Issue(
        Series("embedded-ai", "嵌入式AI简报"),
        date(2026, 12, 7),
        "嵌入式AI简报",
        sections=(section,),
    )


def test_a_part_too_long_for_one_message_is_trimmed_to_one() -> None:
    taxonomy = Taxonomy.default()
    renderer = WeChatRenderer()
    issue = big_issue(40)
    assert len(renderer.digest(issue)) > 1
    for part in ("all", "section:papers", "topic:quantization"):
        text = render_part(renderer, issue, part, taxonomy)
        assert text is not None and utf8_len(text) <= WECHAT_MAX
        assert "/40 条" in text and "查看全部" in text
    assert "最新 论文" in (render_part(renderer, issue, "section:papers", taxonomy) or "")
    assert render_part(renderer, issue, "topic:chips", taxonomy) is None


def test_a_part_that_fits_is_sent_in_full() -> None:
    issue = big_issue(2)
    text = render_part(WeChatRenderer(), issue, "section:papers", Taxonomy.default())
    assert text is not None and "摘要摘要" in text and "条。" not in text


def test_callbacks_are_fresh_within_300_seconds_either_way() -> None:
    now = 1_800_000_000
    codec = OfficialCodec(TOKEN, None, DEFAULT_APPID, clock=lambda: now)
    for skew in (-300, 0, 300):
        assert codec.verify(official_verification("ok", timestamp=now + skew)) == "ok"
    for skew in (-301, 301):
        with pytest.raises(Stale):
            codec.verify(official_verification("ok", timestamp=now + skew))
    garbage = {"signature": sign(TOKEN, "nan", "n"), "timestamp": "nan", "nonce": "n"}
    with pytest.raises(BadSignature, match="not a number"):
        codec.verify(garbage)
