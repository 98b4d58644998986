"""Section and topic taxonomy of a briefing series, plus pure topic tagging.

Defaults are plain data (`DEFAULT_SECTIONS`, `DEFAULT_TOPICS`) so configuration
can extend or replace them; `Taxonomy` turns them into a frozen lookup with one
precompiled regex per topic.

Keyword rules: matching is case-insensitive and runs on NFKC-normalised text
(full-width latin and ligatures fold to ASCII). A keyword that starts/ends with
an ASCII letter or digit only matches on an ASCII word boundary there, so "NPU"
matches "自研NPU" and "NPUs" but not "INPUT"; CJK keywords match as substrings
(Chinese has no word boundaries). A space in a keyword matches any run of
spaces, "-" or "_" (or nothing): "TensorFlow Lite" also finds "TensorFlowLite".
A trailing "*" is a prefix wildcard: "quantiz*" finds "quantized" and
"quantization". A plain latin keyword also matches its plural ("GPU" -> "GPUs").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from briefings.model import Entry, Issue

Kind = Literal["section", "topic"]


class SectionData(NamedTuple):
    zh: str  # Chinese display name (also the default heading)
    en: str  # English display name
    names: tuple[str, ...] = ()  # other headings and aliases that resolve to the section


class TopicData(NamedTuple):
    zh: str
    en: str
    keywords: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # extra names for `Taxonomy.resolve`
    excludes: tuple[str, ...] = ()  # phrases that contain a keyword but mean something else


DEFAULT_SECTIONS: Final[Mapping[str, SectionData]] = MappingProxyType(
    {
        "news": SectionData(
            "业界新闻", "Industry news", ("新闻", "业界", "行业新闻", "news", "industry news")
        ),
        "papers": SectionData("论文", "Papers", ("paper", "papers", "论文速递", "research")),
        "projects": SectionData(
            "开源项目",
            "Open-source projects",
            ("开源", "项目", "project", "projects", "open source", "open-source", "oss"),
        ),
        "blogs": SectionData(
            "博文", "Blog posts", ("博客", "文章", "blog", "blogs", "posts", "articles")
        ),
        "apps": SectionData(
            "应用", "Applications", ("应用案例", "app", "application", "applications")
        ),
    }
)

DEFAULT_TOPICS: Final[Mapping[str, TopicData]] = MappingProxyType(
    {
        "chips": TopicData(
            "芯片",
            "Chips",
            (
                "芯片", "骁龙", "麒麟", "天玑", "猎户座", "昇腾", "寒武纪", "处理器", "加速器",
                "台积电", "高通", "联发科", "制程", "Exynos", "Snapdragon", "Kirin", "Dimensity",
                "Helio", "Qualcomm", "MediaTek", "TSMC", "NPU", "SoC", "GPU", "TPU", "IPU", "VPU",
                "AIPU", "DSP", "FPGA", "ASIC", "Neural Engine", "Hexagon", "Adreno", "Mali",
                "Ethos", "Cortex", "RISC-V", "Ascend", "Tensor Core", "chip", "chipset",
                "processor", "accelerator",
            ),
            ("chip", "硬件", "hardware"),
        ),
        "quantization": TopicData(
            "量化",
            "Quantization",
            (
                "量化", "低比特", "二值", "三值", "定点", "混合精度", "int8", "int4",
                "int16", "uint8", "fp16", "bf16", "bfloat16", "1-bit", "2-bit", "4-bit",
                "8-bit", "1bit", "2bit", "4bit", "8bit", "quantiz*", "binariz*",
                "binary neural", "binary network", "binary weight", "binary convolution",
                "BNN", "XNOR*", "ternary", "QAT", "PTQ", "low-bit", "low precision",
                "mixed precision", "fixed-point",
            ),
            ("quant", "低比特", "int8"),
            ("向量化", "量化交易"),  # vectorisation, quant trading
        ),
        "compression": TopicData(
            "模型压缩",
            "Compression",
            (
                "压缩", "剪枝", "裁剪", "稀疏", "蒸馏", "低秩", "prun*", "distill*",
                "compress*", "sparsity", "sparse", "low-rank",
            ),
            ("压缩", "剪枝", "蒸馏", "pruning", "distillation"),
        ),
        "inference": TopicData(
            "推理框架",
            "Inference",
            (
                "推理", "部署", "端侧", "inference", "MNN", "ncnn", "TNN", "TensorRT", "TFLite",
                "TF Lite", "TensorFlow Lite", "TensorFlow.js", "Paddle Lite", "MACE", "Tengine*",
                "Bolt", "Core ML", "NNAPI", "OpenVINO", "SNPE", "HiAI", "MindSpore Lite",
                "ONNX Runtime", "Arm NN", "XNNPACK", "QNNPACK", "on-device", "deploy*",
            ),
            ("推理", "推理引擎", "部署", "inference engine", "deployment"),
        ),
        "compilers": TopicData(
            "编译器",
            "Compilers",
            (
                "编译", "多面体", "算子融合", "自动调优", "TVM", "MLIR", "XLA", "Halide", "LLVM",
                "Glow", "nGraph", "Relay", "Ansor", "AutoTVM", "AutoKernel", "Tiramisu",
                "polyhedral", "operator fusion", "kernel fusion", "compiler*", "codegen",
                "code generation",
            ),
            ("编译", "compiler"),
        ),
        "nas": TopicData(
            "网络结构搜索",
            "Neural architecture search",
            (
                "NAS", "架构搜索", "结构搜索", "architecture search", "AutoML", "ProxylessNAS",
                "MnasNet", "FBNet*", "DARTS", "Once-for-All", "hardware-aware",
            ),
            ("架构搜索", "AutoML"),
        ),
        "detection": TopicData(
            "目标检测",
            "Object detection",
            (
                "目标检测", "物体检测", "人脸检测", "行人检测", "车道线检测", "口罩检测", "检测器",
                "检测算法", "检测模型", "object detection", "face detection", "detector*",
                "YOLO*", "NanoDet", "CenterNet", "CornerNet*", "EfficientDet", "RetinaNet",
                "R-CNN", "SSDLite", "MobileNet-SSD",
            ),
            ("检测", "detection"),
        ),
        "lightweight": TopicData(
            "轻量网络",
            "Lightweight models",
            (
                "轻量", "MobileNet*", "ShuffleNet*", "GhostNet", "EfficientNet*", "SqueezeNet",
                "MicroNet", "MobileNeXt", "MixNet", "PeleeNet", "lightweight", "light-weight",
            ),
            ("轻量", "efficient networks"),
        ),
        "tinyml": TopicData(
            "微控制器",
            "TinyML & microcontrollers",
            (
                "单片机", "微控制器", "TinyML", "MCU", "Cortex-M", "microcontroller*",
                "TensorFlow Lite Micro", "TFLite Micro", "TFLM", "uTensor", "CMSIS-NN", "ESP32",
                "Ethos-U", "Arduino",
            ),
            ("TinyML", "MCU", "单片机"),
        ),
    }
)  # fmt: skip

_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_NEVER = re.compile(r"(?!x)x")
_ORDINAL = re.compile(r"^(?:\d+|[一二三四五六七八九十]+)\s*[.、．)）]\s*")
_LINK_ONLY = re.compile(r"^\[(.*)\]\([^()]*\)$")
# `[^()]` / `[^<>]`: a scan stops at the next opener, so it stays linear on `](](](`...
_URL = re.compile(r"https?://\S+|\]\([^()]*\)|<[^<>]*>")


def normalize_name(name: str) -> str:
    """Lookup form of a heading or alias: `[论文](x)` -> `论文`, ` Papers ` -> `papers`."""
    text = unicodedata.normalize("NFKC", name).strip().lstrip("#/").strip()
    link = _LINK_ONLY.match(text)
    if link:
        text = link.group(1)
    text = _ORDINAL.sub("", text.strip("*_ ").rstrip(":："))
    return " ".join(text.casefold().split())


def generated_section_key(heading: str) -> str:
    """Stable ASCII key for a heading the taxonomy does not know.

    Latin headings are slugified ("Tools & Tips" -> "tools-tips"); anything else
    becomes "section-" plus a short hash of the normalised heading, so the same
    heading gets the same key in every issue.
    """
    norm = normalize_name(heading)
    if norm.isascii():
        slug = re.sub(r"[^a-z0-9]+", "-", norm).strip("-")
        if slug:
            return slug
    digest = hashlib.sha1(norm.encode("utf-8")).hexdigest()[:8]
    return f"section-{digest}"


def fold_text(text: str) -> str:
    """The form keywords are matched on: NFKC (full-width -> ASCII) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _keyword_regex(keyword: str) -> str:
    core = fold_text(keyword).strip()
    prefix = core.endswith("*")
    core = core.rstrip("*").strip()
    body = r"[\s_-]*".join(re.escape(part) for part in core.split())
    if prefix:
        body += "[a-z0-9]*"
    elif core[-1:].isascii() and core[-1:].isalpha():
        body += "(?:e?s)?"
    if _ASCII_WORD.match(core[:1]):
        # Boundary checked after the first char, so every alternative starts with a
        # literal and `re` can skip ahead to candidate characters (10x faster).
        body = body[0] + "(?<![A-Za-z0-9].)" + body[1:]
    if prefix or _ASCII_WORD.match(core[-1:]):
        body += "(?![A-Za-z0-9])"
    return body


def compile_keywords(keywords: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive alternation for all keywords of a topic."""
    parts = sorted({_keyword_regex(k) for k in keywords if k.strip(" *")}, key=len, reverse=True)
    # Matching folded text without IGNORECASE lets `re` skip to candidate first chars.
    return re.compile("|".join(parts)) if parts else _NEVER


@dataclass(frozen=True, slots=True)
class SectionSpec:
    key: str
    zh: str
    en: str
    names: tuple[str, ...] = ()  # headings as written in issues, and user aliases


@dataclass(frozen=True, slots=True)
class TopicRule:
    key: str
    zh: str
    en: str
    keywords: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    exclude_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_keywords(self.keywords))
        object.__setattr__(self, "exclude_pattern", compile_keywords(self.excludes))

    def matches(self, text: str) -> bool:
        """True if a keyword occurs in `text` outside an excluded phrase (any case/width)."""
        return self.matches_folded(fold_text(text))

    def matches_folded(self, text: str) -> bool:
        """`matches` for text already passed through `fold_text`."""
        if self.excludes:
            text = self.exclude_pattern.sub(" ", text)
        return self.pattern.search(text) is not None


def _section_spec(key: str, data: Sequence[Any]) -> SectionSpec:
    spec = SectionData(*data)
    return SectionSpec(key, spec.zh, spec.en, tuple(spec.names))


def _topic_rule(key: str, data: Sequence[Any]) -> TopicRule:
    spec = TopicData(*data)
    return TopicRule(
        key, spec.zh, spec.en, tuple(spec.keywords), tuple(spec.aliases), tuple(spec.excludes)
    )


def _build_index(
    sections: Sequence[SectionSpec], topics: Sequence[TopicRule]
) -> dict[str, tuple[Kind, str]]:
    index: dict[str, tuple[Kind, str]] = {}
    named: list[tuple[Kind, str, Iterable[str]]] = [
        ("section", s.key, (s.key, s.zh, s.en, *s.names)) for s in sections
    ]
    named += [("topic", t.key, (t.key, t.zh, t.en, *t.aliases)) for t in topics]
    for kind, key, names in named:
        for name in names:
            norm = normalize_name(name)
            if not norm:
                continue
            if index.setdefault(norm, (kind, key)) != (kind, key):
                raise ValueError(f"name {name!r} maps to both {index[norm]} and {(kind, key)}")
    return index


@dataclass(frozen=True, slots=True)
class Taxonomy:
    sections: tuple[SectionSpec, ...]
    topics: tuple[TopicRule, ...]
    _index: Mapping[str, tuple[Kind, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = _build_index(self.sections, self.topics)
        object.__setattr__(self, "_index", MappingProxyType(index))

    @classmethod
    def from_data(
        cls, sections: Mapping[str, Sequence[Any]], topics: Mapping[str, Sequence[Any]]
    ) -> Taxonomy:
        """Build from plain data shaped like `DEFAULT_SECTIONS` / `DEFAULT_TOPICS` (lists ok)."""
        return cls(
            sections=tuple(_section_spec(key, data) for key, data in sections.items()),
            topics=tuple(_topic_rule(key, data) for key, data in topics.items()),
        )

    @classmethod
    def default(cls) -> Taxonomy:
        return cls.from_data(DEFAULT_SECTIONS, DEFAULT_TOPICS)

    def with_section_headings(self, headings: Mapping[str, str]) -> Taxonomy:
        """Add a per-series heading -> key mapping (from config); unknown keys get a new section."""
        specs = {s.key: s for s in self.sections}
        for heading, key in headings.items():
            spec = specs.get(key) or SectionSpec(key, heading, key)
            specs[key] = replace(spec, names=(*spec.names, heading))
        return replace(self, sections=tuple(specs.values()))

    def section_key(self, heading: str) -> str | None:
        """Key of a section heading as written, or None when the taxonomy does not know it."""
        hit = self._index.get(normalize_name(heading))
        return hit[1] if hit and hit[0] == "section" else None

    def resolve(self, name: str) -> tuple[Kind, str] | None:
        """Resolve a user-facing name (key, display name, heading or alias); sections first."""
        return self._index.get(normalize_name(name))

    def display_name(self, key: str, lang: str = "zh") -> str:
        """Display name of a section or topic key; the key itself when unknown."""
        for item in (*self.sections, *self.topics):
            if item.key == key:
                return item.zh if lang.startswith("zh") else item.en
        return key

    def localized(self, issue: Issue, lang: str) -> Issue:
        """`issue` with its known sections headed in `lang` (English: "Papers").

        Chinese keeps the headings as written: they are the briefing's own words, which
        the taxonomy's names only approximate. A heading the taxonomy does not know is
        kept in every language (it has no other name).
        """
        if lang.startswith("zh"):
            return issue
        names = {s.key: s.en for s in self.sections}
        sections = tuple(
            replace(s, heading=names[s.key]) if s.key in names else s for s in issue.sections
        )
        return issue.with_sections(sections)

    def topics_for(self, text: str) -> tuple[str, ...]:
        """Keys of all topics whose keywords occur in `text`, in taxonomy order."""
        folded = fold_text(text)
        return tuple(t.key for t in self.topics if t.matches_folded(folded))


def _entry_text(entry: Entry) -> str:
    # URLs and HTML tags would match keywords by accident (".../mnn-demo", "<font>").
    raw = "\n".join((entry.title, entry.source or "", entry.summary))
    return _URL.sub(" ", raw)


def tag_entry(entry: Entry, taxonomy: Taxonomy) -> Entry:
    return replace(entry, topics=taxonomy.topics_for(_entry_text(entry)))


def tag_issue(issue: Issue, taxonomy: Taxonomy) -> Issue:
    """Fill (or refresh) Entry.topics from title + source + summary; pure."""
    sections = tuple(
        replace(s, entries=tuple(tag_entry(e, taxonomy) for e in s.entries)) for s in issue.sections
    )
    return issue.with_sections(sections)


__all__ = [
    "DEFAULT_SECTIONS",
    "DEFAULT_TOPICS",
    "Kind",
    "SectionData",
    "SectionSpec",
    "Taxonomy",
    "TopicData",
    "TopicRule",
    "compile_keywords",
    "fold_text",
    "generated_section_key",
    "normalize_name",
    "tag_entry",
    "tag_issue",
]
