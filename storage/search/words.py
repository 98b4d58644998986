"""Word boundaries for ranking: jieba (a dictionary segmenter) plus the field's vocabulary.

The index matches by character bigrams, so `量化` also finds 向量化 and 轻量化. To rank
entries where a query stands as a word above those where it is only inside a longer
word, every document also carries its words as index tokens (`w_量化`, and `wt_量化`
for its title; see storage.search.plan), and a query word of two or three characters
asks for them. Longer query words and single characters are not asked for: their
bigram match is specific enough, and a query never needs the segmenter, so searching
never pays for loading its dictionary (~0.5-1 s); only indexing does, once per process.

A long dictionary word that splits cleanly into shorter dictionary words also stands
for them (神经网络 -> 神经 网络, 知识蒸馏 -> 知识 蒸馏); a word that only splits with a
lone character left over does not (向量化 is 向量 + 化, so it never stands for 量化).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from storage.search.text import CJK_CHARS, fold

# Query words of these lengths are matched against the documents' words.
WORD_MIN_CHARS = 2
WORD_MAX_CHARS = 3

# The field's words jieba's general dictionary lacks or splits, and longer words that
# contain a query word without meaning it (向量化, 轻量化 are not 量化). Only CJK runs are
# segmented: Latin names (NPU, int8, TensorFlow) are whole index tokens already.
VOCABULARY = (
    # techniques
    "量化", "剪枝", "蒸馏", "知识蒸馏", "低比特", "混合精度", "半精度", "算子", "算子融合",
    "推理", "推理引擎", "部署", "张量", "模型压缩", "神经网络", "目标检测", "语义分割", "超分",
    # words jieba splits wrongly, so that a shorter query word seems to stand in them
    # (向量化 is 向量 + 化, jieba says 向 + 量化). Derived words that keep the meaning stay
    # out: 量化器 and 稀疏化 still stand for 量化 and 稀疏 (jieba: 量化 + 器, 稀疏 + 化).
    "向量", "向量化", "轻量化",
    # places and hardware
    "端侧", "端云", "大模型",
    # names the series keeps writing about
    "骁龙", "麒麟", "昇腾", "寒武纪", "平头哥", "含光", "玄铁", "思元", "地平线", "旷视",
    "商汤", "海思", "联发科", "紫光展锐", "飞桨", "鸿蒙", "英伟达", "谷歌", "字节跳动",
)  # fmt: skip

_CJK_RUN = re.compile(rf"[{CJK_CHARS}]+")
_lock = threading.Lock()
_tokenizer: Any = None


def segmenter() -> Any:
    """The process' jieba Tokenizer with VOCABULARY added, loaded on first use."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba  # ~0.1 s to import, ~0.5-1 s to load: only when indexing

            # jieba logs "Building prefix dict ..." at DEBUG to stderr on every load.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in VOCABULARY:
                tokenizer.add_word(word)
            _tokenizer = tokenizer
    return _tokenizer


def document_words(*texts: str | None) -> dict[str, int]:
    """How often each word (WORD_MIN..WORD_MAX CJK characters) stands in texts, in order."""
    found: dict[str, int] = {}
    tokenizer = None
    for text in texts:
        if not text:
            continue
        for run in _CJK_RUN.findall(fold(text)):
            if len(run) < WORD_MIN_CHARS:
                continue
            tokenizer = tokenizer or segmenter()
            for token in tokenizer.cut(run, HMM=False):
                for word in _standing_for(token):
                    found[word] = found.get(word, 0) + 1
    return found


def query_words(segments: Iterable[str]) -> list[str]:
    """The words a query's CJK segments ask for: those of WORD_MIN..WORD_MAX characters."""
    return [s for s in segments if WORD_MIN_CHARS <= len(s) <= WORD_MAX_CHARS]


@lru_cache(maxsize=65536)
def _standing_for(token: str) -> tuple[str, ...]:
    if len(token) < WORD_MIN_CHARS:
        return ()
    if len(token) <= WORD_MAX_CHARS:
        return (token,)
    return tuple(w for w in _clean_split(token) if len(w) <= WORD_MAX_CHARS)


def _clean_split(word: str) -> list[str]:
    """The likeliest split of `word` into dictionary words of 2+ characters, or []."""
    tokenizer = segmenter()
    freq, log_total = tokenizer.FREQ, math.log(tokenizer.total)
    n = len(word)
    # best[i]: (log-probability, split) of word[i:]; None when no clean split exists
    best: list[tuple[float, list[str]] | None] = [None] * n + [(0.0, [])]
    for i in range(n - 2, -1, -1):
        for j in range(i + 2, n + 1):
            part = word[i:j]
            rest = best[j]
            if (i, j) == (0, n) or rest is None or not freq.get(part):
                continue
            score = math.log(freq[part]) - log_total + rest[0]
            if best[i] is None or score > best[i][0]:  # type: ignore[index]
                best[i] = (score, [part, *rest[1]])
    return best[0][1] if best[0] else []
