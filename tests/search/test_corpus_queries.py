"""Realistic queries over the real corpus, on SQLite and PostgreSQL.

Expected titles were picked by reading the corpus titles, not from engine output:
for each query they are the entries a reader would look for (every title that
contains the word when there are at most five), or a rule every top-5 hit must
satisfy when more titles than fit on a page contain the word.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from briefings.marks import MARK_END, MARK_START
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.db import create_engine, session_factory
from storage.search import SearchHit, SearchPage, search
from storage.search.text import fold, plain_text
from tests.search.conftest import SERIES

pytestmark = pytest.mark.corpus


@dataclass(frozen=True)
class Case:
    query: str
    top5: tuple[str, ...] = ()  # title fragments that must all be among the first five hits
    title_has: tuple[str, ...] = ()  # every top-5 title contains all of these (folded)
    check: Callable[[SearchHit], bool] | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.query


CASES = [
    # one Chinese character
    Case("昇", top5=("华为史上最强芯片昇腾910面世",)),
    Case("玄", top5=("阿里平头哥第一颗产品——玄铁910首次交货",)),
    Case("芯", title_has=("芯",)),
    # two characters
    Case("剪枝", title_has=("剪枝",)),
    Case("骁龙", title_has=("骁龙",)),
    Case(
        "蒸馏",
        top5=(
            "知识蒸馏（Knowledge Distillation）最新进展（一）",
            "LTD-BERT：内存用量1/20",
            "UVA-Net：速度提升200倍",
            "基于长短期老师的样本蒸馏方法",
        ),
    ),
    Case("芯片", title_has=("芯片",)),
    # three characters
    Case("寒武纪", top5=("传寒武纪最新产品曝光", "寒武纪推出云端AI芯片「思元270」")),
    Case(
        "平头哥",
        top5=(
            "平头哥新动态：蓄势待发，RISC-V必有一席之地",
            "阿里平头哥第一颗产品——玄铁910首次交货",
            "如何看待阿里平头哥发布的全球最高性能 AI 芯片「含光 800」",
            "平头哥共享MCU芯片平台",
            "MLPerf发布首个AI芯片推理测试排行榜：阿里平头哥含光800获得多项第一",
        ),
    ),
    Case("移动端", title_has=("移动端",)),
    # four characters
    Case("知识蒸馏", top5=("知识蒸馏（Knowledge Distillation）最新进展（一）", "UVA-Net")),
    Case("目标检测", title_has=("目标检测",)),
    Case("模型压缩", title_has=("模型压缩",)),
    Case('"模型压缩"', title_has=("模型压缩",)),
    # English product names, any case, punctuation inside
    Case(
        "int8",
        top5=(
            "Int8量化-Winograd量化原理及实现（四）",
            "tpoisonooo/chgemm: symmetric int8 gemm",
            "Int8极速推理，端侧推理引擎Paddle Lite 2.0 正式发布",
            "用于加速卷积神经网络训练过程INT8训练技术",
        ),
    ),
    Case("TensorFlow Lite", title_has=("tensorflow lite",)),
    Case(
        "RISC-V",
        top5=(
            "平头哥新动态：蓄势待发，RISC-V必有一席之地",
            "用三百行代码快速实现一个RISC-V及汇编器",
            "全球首款可编程碳纳米管芯片问世，RISC-V架构",
            "搭载生物数据计算RISC-V NPU",
            "我把 ncnn 移植到 RISC-V 啦！",
        ),
    ),
    Case(
        "tensorrt",
        top5=(
            "英伟达深度学习推理引擎TensorRT，现在开源了",
            "发布TensorRT7",
            "An easy to use PyTorch to TensorRT converter",
            "如何在Jetson nano上编译带TensorRT的飞桨框架",
        ),
    ),
    Case(
        "Paddle Lite",
        top5=(
            "百度Paddle Lite发布：率先支持华为NPU在线编译",
            "Paddle Lite特性全解读",
            "端侧推理引擎Paddle Lite 2.0 正式发布",
            "Paddle Lite底层backend的kernel选择策略",
        ),
    ),
    Case(
        "YOLO",  # a Latin word of 4+ letters also matches as a prefix: YOLOv3, YOLOv4
        top5=(
            "吊打YOLOv3！",
            "Darknet发布YOLO v4及论文",
            "YOLOv4目标检测、换脸、视频上色",
            "Yolo-Fastest：1.3MB的超轻YOLO算法",
        ),
    ),
    # mixed Chinese / English, several words
    Case(
        "骁龙855",
        top5=(
            "性能升级，骁龙855 Plus 移动平台来袭",
            "AI跑分比骁龙855还高",
            "多核性能击败麒麟990和骁龙855！",
            "麒麟990远超骁龙855+",
        ),
    ),
    Case(
        "MNN 推理",
        top5=(
            "阿里开源！轻量级深度学习端侧推理引擎 MNN",
            "淘宝开源深度学习推理引擎MNN",
            "阿里轻量级AI推理引擎MNN 1.0.0正式发布",
            "MNN: 如何客观评价推理引擎",
        ),
    ),
    Case("ncnn 量化", top5=("NCNN Conv量化详解（一）", "NCNN量化详解（二）")),
    Case("Int8量化", top5=("Int8量化-Winograd量化原理及实现（四）",)),
    Case("华为 芯片", title_has=("华为", "芯片")),
    Case("NanoDet", top5=("NanoDet轻量级（1.8MB）", "嵌入式AI简报 (2020-11-30) 华为Bolt发布1.0")),
    # filters
    Case(
        "section:papers 剪枝",
        title_has=("剪枝",),
        check=lambda hit: hit.section_key == "papers",
    ),
    Case(
        "量化 year:2019",
        top5=(
            "ICLR 2019论文解读：量化神经网络",
            "Int8量化-Winograd量化原理及实现（四）",
            "NCNN Conv量化详解（一）",
            "NCNN量化详解（二）",
        ),
        check=lambda hit: hit.issue_key.year == 2019,
    ),
    Case(
        "date:2020-01..2020-06 剪枝",
        top5=(
            "剪枝实践：图像检索如何加速和省显存",
            "基于可解释性通道选择的动态网络剪枝方法",
            "无训练过程的网络剪枝技术",
            "闲话模型压缩之网络剪枝",
            "基于高秩特征图的滤波器剪枝方法",
        ),
        check=lambda hit: date(2020, 1, 1) <= hit.issue_key <= date(2020, 6, 30),
    ),
    Case("topic:chips 华为", title_has=("华为",)),
    Case(
        "section:论文 topic:量化 BERT",
        title_has=("bert",),
        check=lambda h: h.section_key == "papers",
    ),
]


@pytest.fixture
async def session(corpus_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(corpus_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def corpus_topics(corpus_dir: Path) -> dict[str, tuple[str, ...]]:
    """Topics of each entry by title, from the parser (to check topic: filters)."""
    taxonomy = Taxonomy.default()
    topics: dict[str, tuple[str, ...]] = {}
    for path in sorted(corpus_dir.glob("*.md")):
        issue = parse_issue(
            decode_briefing(path.read_bytes(), str(path)), str(path), SERIES, taxonomy
        )
        for section in issue.sections:
            for entry in section.entries:
                topics[entry.title] = entry.topics
    return topics


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_readers_find_the_expected_entries_in_the_top_five(
    session: AsyncSession, case: Case, corpus_topics: dict[str, tuple[str, ...]]
) -> None:
    page = await search(session, case.query, series_slug=SERIES.slug)
    titles = [hit.title for hit in page.hits]
    assert page.hits, f"no hits for {case.query!r}"
    for fragment in case.top5:
        assert any(fragment in t for t in titles), f"{fragment!r} not in top 5 {titles}"
    for hit in page.hits:
        for word in case.title_has:
            assert fold(word) in fold(hit.title), f"{hit.title!r} lacks {word!r}"
        if case.check is not None:
            assert case.check(hit), hit
        if "topic:chips" in case.query:
            assert "chips" in corpus_topics[hit.title], hit.title
        if "topic:量化" in case.query:
            assert "quantization" in corpus_topics[hit.title], hit.title


async def _all_hits(session: AsyncSession, query: str) -> list[SearchHit]:
    hits: list[SearchHit] = []
    page_no = 1
    while True:
        page: SearchPage = await search(
            session, query, series_slug=SERIES.slug, page=page_no, per_page=50
        )
        hits += page.hits
        if not page.has_more:
            return hits
        page_no += 1


@pytest.mark.parametrize("word", ["芯", "造", "剪枝", "寒武纪", "骁龙855", "神经网络"])
async def test_chinese_words_match_like_a_substring_search(
    session: AsyncSession, corpus_dir: Path, word: str
) -> None:
    """Every entry whose title or summary contains the word is found (no dictionary)."""
    taxonomy = Taxonomy.default()
    expected: set[tuple[date, str]] = set()
    for path in sorted(corpus_dir.glob("*.md")):
        issue = parse_issue(
            decode_briefing(path.read_bytes(), str(path)), str(path), SERIES, taxonomy
        )
        for section in issue.sections:
            for entry in section.entries:
                if word in entry.title or word in fold(plain_text(entry.summary)):
                    expected.add((issue.key, entry.title))
    hits = await _all_hits(session, word)
    found = {(hit.issue_key, hit.title) for hit in hits}
    assert expected, word
    assert expected <= found
    assert len(found) == len(hits), "a hit appears twice across pages"


async def test_pages_are_disjoint_and_in_a_stable_order(session: AsyncSession) -> None:
    first = await search(session, "模型", series_slug=SERIES.slug, page=1, per_page=10)
    second = await search(session, "模型", series_slug=SERIES.slug, page=2, per_page=10)
    again = await search(session, "模型", series_slug=SERIES.slug, page=1, per_page=10)
    assert first.total is not None and first.total > 20 and first.has_more
    assert first.hits == again.hits
    assert not {(h.issue_key, h.title) for h in first.hits} & {
        (h.issue_key, h.title) for h in second.hits
    }


async def test_snippets_mark_the_matched_words(session: AsyncSession) -> None:
    page = await search(session, "骁龙855", series_slug=SERIES.slug)
    marked = [h.snippet for h in page.hits if MARK_START in h.snippet]
    assert marked
    for text in marked:
        inside = [part.split(MARK_END)[0] for part in text.split(MARK_START)[1:]]
        assert all(fold(part).replace(" ", "") == "骁龙855" for part in inside), inside
