"""Section/topic lookup and keyword tagging."""

from __future__ import annotations

from dataclasses import replace

import pytest

from briefings.model import Entry
from briefings.taxonomy import DEFAULT_TOPICS, Taxonomy, TopicRule, tag_entry, tag_issue
from tests.briefings._helpers import doc, parse

TAXONOMY = Taxonomy.default()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("papers", ("section", "papers")),
        ("论文", ("section", "papers")),
        ("paper", ("section", "papers")),
        ("Papers ", ("section", "papers")),
        ("业界新闻", ("section", "news")),
        ("news", ("section", "news")),
        ("开源项目", ("section", "projects")),
        ("博文", ("section", "blogs")),
        ("blog", ("section", "blogs")),
        ("应用", ("section", "apps")),
        ("chips", ("topic", "chips")),
        ("芯片", ("topic", "chips")),
        ("量化", ("topic", "quantization")),
        ("Quantization", ("topic", "quantization")),
        ("剪枝", ("topic", "compression")),
        ("#inference", ("topic", "inference")),
        ("编译器", ("topic", "compilers")),
        ("nas", ("topic", "nas")),
        ("往期回顾", None),
        ("菜谱", None),
    ],
)
def test_resolve_by_key_heading_display_name_or_alias(name: str, expected: object) -> None:
    assert TAXONOMY.resolve(name) == expected


def test_section_key_ignores_topics_and_heading_markup() -> None:
    assert TAXONOMY.section_key("[论文](https://x.example)") == "papers"
    assert TAXONOMY.section_key("1. 业界新闻") == "news"
    assert TAXONOMY.section_key("芯片") is None


def test_display_names_in_both_languages() -> None:
    assert TAXONOMY.display_name("chips") == "芯片"
    assert TAXONOMY.display_name("chips", "en") == "Chips"
    assert TAXONOMY.display_name("papers", "en") == "Papers"
    assert TAXONOMY.display_name("unknown") == "unknown"


def test_defaults_cover_the_required_topics_with_both_names() -> None:
    required = {"chips", "quantization", "compression", "inference", "compilers"}
    assert required <= set(DEFAULT_TOPICS)
    for topic in TAXONOMY.topics:
        assert topic.zh and topic.en and topic.keywords


def test_a_name_used_twice_is_rejected() -> None:
    with pytest.raises(ValueError, match="maps to both"):
        replace(TAXONOMY, topics=(*TAXONOMY.topics, TopicRule("x", "论文", "X", ("x",))))


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("华为P30搭载了麒麟980处理器", {"chips"}),
        ("阿里自研NPU将于下半年推出", {"chips"}),
        ("Snapdragon 865 and Exynos 990", {"chips"}),
        ("新一代SoCs与NPUs", {"chips"}),
        ("低比特量化", {"quantization"}),
        ("Int8 Winograd的实现细节", {"quantization"}),
        ("Accurate and Efficient 2-Bit Quantized Neural Networks", {"quantization"}),
        ("网络剪枝（Network Pruning）", {"compression"}),
        ("knowledge distillation for BERT", {"compression"}),
        ("MNN与TNN、Paddle-Lite、TensorFlow Lite对比", {"inference"}),
        ("TVM与MLIR", {"compilers"}),
        ("ProxylessNAS: neural architecture search", {"nas"}),
        ("NanoDet轻量级目标检测", {"detection", "lightweight"}),
        ("TinyML on Cortex-M microcontrollers", {"tinyml", "chips"}),
    ],
)
def test_topics_match_chinese_and_english(text: str, topics: set[str]) -> None:
    assert set(TAXONOMY.topics_for(text)) == topics


@pytest.mark.parametrize(
    "text",
    [
        "INPUT and OUTPUT handling",  # NPU inside INPUT
        "the BinaryConnect paper",  # "binary" alone is not a rule, "binariz*" is
        "向量化代码生成",  # vectorisation contains 量化
        "GPUTurbo and TensorRTX",  # no word boundary after GPU / TensorRT
        "print(bint8)",  # no word boundary before int8
    ],
)
def test_word_boundaries_and_exclusions_prevent_false_topics(text: str) -> None:
    assert TAXONOMY.topics_for(text) == ()


def test_int8_matches_any_case_and_full_width() -> None:
    for text in ("INT8", "int8", "Int8量化后", "ＩＮＴ８"):
        assert "quantization" in TAXONOMY.topics_for(text)


def test_urls_and_html_do_not_create_topics() -> None:
    entry = Entry(
        position=0,
        title="一篇博客",
        summary="见 https://github.com/alibaba/MNN 与 <font color=gpu>文字</font>",
    )
    assert tag_entry(entry, TAXONOMY).topics == ()


def test_tag_issue_fills_topics_from_title_source_and_summary() -> None:
    issue = parse(
        doc(
            "## 论文",
            "- [剪枝与蒸馏 | 机器之心](https://a.example)",
            "摘要：在 Snapdragon 上部署 INT8 模型。",
            "- [Polyhedral Model | TVM社区](https://b.example)",
            "- [菜谱 | 美食](https://c.example)",
        )
    )
    topics = [e.topics for e in issue.sections[0].entries]
    assert topics == [("chips", "quantization", "compression", "inference"), ("compilers",), ()]


def test_tag_issue_replaces_stale_topics_and_is_pure() -> None:
    issue = parse(doc("## 论文", "- [MNN推理 | 阿里](https://a.example)"))
    stale = issue.with_sections(
        tuple(
            replace(s, entries=tuple(replace(e, topics=("old",)) for e in s.entries))
            for s in issue.sections
        )
    )
    retagged = tag_issue(stale, TAXONOMY)
    assert retagged.sections[0].entries[0].topics == ("inference",)
    assert stale.sections[0].entries[0].topics == ("old",)


def test_custom_topics_from_plain_data() -> None:
    taxonomy = Taxonomy.from_data(
        {"papers": ("论文", "Papers", ["paper"])},
        {"llm": ("大模型", "LLMs", ["大模型", "LLM*"], ["large language models"], ["大模型型号"])},
    )
    assert taxonomy.resolve("large language models") == ("topic", "llm")
    assert taxonomy.topics_for("端侧LLMs推理") == ("llm",)
    assert taxonomy.topics_for("大模型型号") == ()
