"""Word-aware ranking, on SQLite and PostgreSQL: a query standing as a word ranks above
the same characters inside a longer word, and every match is ranked, not only the newest.

The expected orders are written out in full, so both databases must agree on them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from storage.db import create_engine, session_factory, upgrade_database
from storage.search import api as search_api
from storage.search import index_is_current, optimize_index
from storage.search import plan as search_plan
from storage.search.words import document_words
from tests.search.test_search_db import (
    Sessions,
    entry,
    find,
    issue,
    news,
    on_postgres,
    papers,
    store,
    titles,
)

ROOT = Path(__file__).resolve().parents[2]


async def test_quantization_ranks_above_vectorization_and_lightweight(
    session_factory: Sessions,
) -> None:
    await store(
        session_factory,
        issue(
            date(2019, 5, 1),
            papers(
                entry(0, "INT8量化实践", "训练后量化的误差分析。"),
                entry(1, "剪枝综述", "介绍剪枝，也提到量化与蒸馏如何配合量化感知训练。"),
            ),
        ),
        issue(  # newer, with 量化 in the title and more often, but only inside other words
            date(2020, 6, 1),
            news(
                entry(0, "向量化指令集", "ARM向量化与向量化编译。"),
                entry(1, "轻量化网络设计", "轻量化的主干网络。"),
                entry(2, "编译器的自动向量化", "循环向量化。"),
            ),
        ),
    )
    page = await find(session_factory, "量化", per_page=10)
    assert page.total == 5
    assert titles(page)[:2] == ["INT8量化实践", "剪枝综述"]  # title word, then summary word
    assert set(titles(page)[2:]) == {"向量化指令集", "轻量化网络设计", "编译器的自动向量化"}
    vectorization = await find(session_factory, "向量化")  # the longer word itself
    assert titles(vectorization) == ["向量化指令集", "编译器的自动向量化"]


async def test_inside_words_rank_last_even_when_newer_and_in_the_title(
    session_factory: Sessions,
) -> None:
    await store(
        session_factory,
        issue(date(2019, 1, 1), news(entry(0, "端侧推理", "手机上的量化模型。"))),
        issue(date(2020, 1, 1), news(entry(0, "向量化加速", "SIMD 向量化。"))),
        issue(date(2021, 1, 1), news(entry(0, "轻量化模型", "轻量化。"))),
    )
    assert titles(await find(session_factory, "量化")) == ["端侧推理", "轻量化模型", "向量化加速"]


async def test_an_english_query_still_ranks_title_matches_first(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2020, 1, 1),
            news(
                entry(0, "新框架发布", "支持 TensorFlow Lite 模型。"),
                entry(1, "TensorFlow Lite 2.0 发布", "更快的推理。"),
                entry(2, "TensorFlow 训练技巧", "与 Lite 无关的 lite 话题。"),
            ),
        ),
    )
    page = await find(session_factory, "tensorflow lite")
    assert titles(page)[0] == "TensorFlow Lite 2.0 发布" and page.total == 3
    assert titles(await find(session_factory, '"TensorFlow Lite"')) == [
        "TensorFlow Lite 2.0 发布",
        "新框架发布",
    ]


async def test_a_long_phrase_finds_exactly_its_text(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2020, 3, 1),
            news(
                entry(0, "阿里开源轻量级深度学习端侧推理引擎", "移动端部署。"),
                entry(1, "推理引擎评测", "本文比较了几款端侧推理引擎的速度。"),
                entry(2, "端侧的推理与引擎", "词都在，但不相连。"),
            ),
        ),
    )
    page = await find(session_factory, "深度学习端侧推理引擎")
    assert titles(page) == ["阿里开源轻量级深度学习端侧推理引擎"]
    assert titles(await find(session_factory, "端侧推理引擎")) == [
        "阿里开源轻量级深度学习端侧推理引擎",  # in the title
        "推理引擎评测",
    ]


async def test_mixed_chinese_and_english(session_factory: Sessions) -> None:
    await store(
        session_factory,
        issue(
            date(2020, 5, 1),
            news(
                entry(0, "华为NPU量化工具", "支持 INT8。"),
                entry(1, "NPU 上的向量化", "NPU 的向量化单元。"),
                entry(2, "高通 DSP 量化", "没有那个处理器。"),
                entry(3, "MNN推理引擎", "阿里的 MNN 支持 NPU 推理。"),
            ),
        ),
    )
    assert titles(await find(session_factory, "NPU 量化")) == ["华为NPU量化工具", "NPU 上的向量化"]
    assert titles(await find(session_factory, "NPU量化")) == ["华为NPU量化工具"]
    assert titles(await find(session_factory, "mnn 推理")) == ["MNN推理引擎"]


async def test_every_match_is_ranked_not_only_the_newest(
    session_factory: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, only the newest 200 matches were ranked: an old title match was never first."""
    monkeypatch.setattr(search_api, "SCORE_WITHIN", 20)  # big tiers are read newest first
    newer = [
        issue(
            date(2021, 1, day),
            news(*(entry(i, f"第{day}期新闻{i}", "顺带提到量化。") for i in range(25))),
        )
        for day in range(1, 11)
    ]
    old = issue(date(2015, 1, 1), papers(entry(0, "模型量化方法综述", "量化。")))
    await store(session_factory, old, *newer)
    page = await find(session_factory, "量化")
    assert page.hits[0].title == "模型量化方法综述" and page.hits[0].issue_key.year == 2015
    assert page.total == (None if on_postgres(session_factory) else 251) and page.has_more
    # the 250 passing mentions follow, newest first, and paging reaches them all
    rest = [
        hit.title
        for number in range(1, 7)
        for hit in (await find(session_factory, "量化", page=number, per_page=50)).hits
    ]
    assert len(rest) == len(set(rest)) == 251 and rest[1] == "第10期新闻0"


def test_document_words_know_the_field_and_its_traps() -> None:
    words = document_words("基于向量化的量化方法，端侧NPU部署大模型，知识蒸馏与神经网络剪枝")
    for word in ("向量化", "量化", "端侧", "部署", "大模型", "蒸馏", "神经", "网络", "剪枝"):
        assert word in words, word
    assert words["量化"] == 1  # the one in 向量化 does not count
    assert "量化" not in document_words("轻量化的向量化网络")
    assert "模型" not in document_words("大模型")  # 大模型 is a word of its own


def test_searching_does_not_load_the_segmenter(tmp_path: Path) -> None:
    """Only indexing needs jieba's dictionary (~0.5-1 s); a query never loads it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'archive.db'}"

    async def build() -> None:
        engine = create_engine(url)
        try:
            await upgrade_database(engine)
            sessions = session_factory(engine)
            await store(sessions, issue(date(2020, 1, 1), news(entry(0, "量化", "向量化"))))
        finally:
            await engine.dispose()

    asyncio.run(build())
    probe = f"""
import asyncio, json, sys
import storage.search
assert "jieba" not in sys.modules, "imported with the package"
from storage.db import create_engine, session_factory
from storage.search import search
async def main():
    engine = create_engine({url!r})
    async with session_factory(engine)() as session:
        page = await search(session, "量化 神经网络 int8", series_slug="embedded-ai")
        page = await search(session, "量化", series_slug="embedded-ai")
    await engine.dispose()
    return [h.title for h in page.hits]
print(json.dumps([asyncio.run(main()), "jieba" in sys.modules]))
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == [["量化"], False]


async def test_maintenance_rebuilds_an_index_written_before_word_ranking(
    session_factory: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive indexed by older code (no word tokens, no format tag) still answers, by
    title and date; the nightly optimize_index finds it and rebuilds it."""
    with monkeypatch.context() as old_code:
        old_code.setattr(search_plan, "INDEX_FORMAT", "f_old")
        old_code.setattr(search_plan, "document_words", lambda *texts: {})
        await store(
            session_factory,
            issue(date(2019, 1, 1), news(entry(0, "端侧推理", "手机上的量化模型。"))),
            issue(date(2020, 1, 1), news(entry(0, "向量化加速", "SIMD 向量化。"))),
        )
    assert titles(await find(session_factory, "量化")) == ["向量化加速", "端侧推理"]
    async with session_factory() as session, session.begin():
        assert not await index_is_current(session)
        await optimize_index(session)
    async with session_factory() as session:
        assert await index_is_current(session)
    assert titles(await find(session_factory, "量化")) == ["端侧推理", "向量化加速"]
    async with session_factory() as session, session.begin():
        await optimize_index(session)  # current: compacted, not rebuilt
