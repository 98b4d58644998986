"""The terminal chat reads like a chat (issue 14): a numbered list inside an entry's
summary is indented under the entry, in Chinese and in English, so its `1.` never reads
as the section's next entry. Through the installed `briefbot chat`, as a subprocess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bot.test_console_reader import briefbot, run

__all__ = ["briefbot"]

ENTRY = re.compile(r"^(\d+)\. ", re.MULTILINE)  # an entry's number, at the line's start


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_sub_list_is_indented_under_its_entry(
    briefbot: list[str], samples_dir: Path, language: str
) -> None:
    run(briefbot, "ingest", str(samples_dir))
    out = run(briefbot, "chat", "--lang", language, stdin="/issue 2026-11-02 projects\n")
    mnn = out.index("alibaba/MNN: MNN 3.2 发布")
    update = out.index("支持INT4权重量化，ARMv8.6", mnn)
    line = out[out.rindex("\n", 0, update) + 1 : update]
    assert line.startswith(" ") and line.strip() == "1."  # under the entry, not a new one
    entries = [int(n) for n in ENTRY.findall(out)]
    assert entries == sorted(set(entries))  # entry numbers only, each once, in order
