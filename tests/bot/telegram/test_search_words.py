"""Search knows words, end to end on the local Bot API server in Chinese and English:
`量化` (quantization) lists every entry where it stands as a word before the entries
about `向量化` (vectorization), on every page."""

from __future__ import annotations

import re

import pytest

from tests.bot.telegram.harness import Harness, button_texts

NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)
VECTORIZATION = (
    "MLIR方言入门：从Linalg到向量化代码生成",
    "Tencent/ncnn: 新增RISC-V Vector 1.0优化",
)
QUANTIZATION = (  # entries of the samples where 量化 stands as a word
    "量化感知训练实践：让MobileNet在INT8下不掉点",
    "OAID/Tengine: 支持FP8推理与新的量化工具",
    "INT8量化部署踩坑记：从TensorRT到端侧NPU",
    "alibaba/MNN: MNN 3.2 发布，新增INT4权重量化与LLM推理加速",
    "CalibFree-Q: Data-Free INT4 Weight Quantization for On-Device LLMs",
    "离线翻译耳机：在200mW功耗内运行语音识别与翻译",
    "手机SoC开始支持FP8：对端侧大模型意味着什么",
)


@pytest.mark.parametrize(
    ("language", "next_page"), [("zh-hans", "下一页 »"), ("en", "Next page »")]
)
async def test_quantization_ranks_its_entries_above_vectorization(
    harness: Harness, language: str, next_page: str
) -> None:
    [page] = await harness.say(7101, "/search 量化", language_code=language)
    first_page = page.visible_text
    listed = dict(NUMBERED.findall(first_page))
    while next_page in button_texts(page):
        _, [page] = await harness.press(page, text=next_page, language_code=language)
        listed.update(NUMBERED.findall(page.visible_text))
    rank = {title: int(n) for n, title in listed.items()}

    def position(title: str) -> int:
        return next(r for shown, r in rank.items() if shown.startswith(title))

    assert not any(title in first_page for title in VECTORIZATION)
    assert max(map(position, QUANTIZATION)) < min(map(position, VECTORIZATION))
