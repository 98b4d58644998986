"""Search knows words on the command core, in Chinese and English: `量化` lists every
entry where it stands as a word before the entries about `向量化`, on every page."""

from __future__ import annotations

import re

import pytest

from bot.commands import Core
from tests.bot.commands.conftest import Client, buttons, text_of
from tests.bot.telegram.test_search_words import QUANTIZATION, VECTORIZATION

NUMBERED = re.compile(r"^(\d+)\. (.+?)(?: — .*)?$", re.MULTILINE)


@pytest.mark.parametrize(("language", "more"), [("zh-hans", "下一页"), ("en", "Next page")])
async def test_quantization_ranks_its_entries_above_vectorization(
    core: Core, language: str, more: str
) -> None:
    client = Client(core, language_code=language)
    replies = await client.send("/search 量化")
    first_page = text_of(replies)
    ranks: dict[str, int] = {}
    while True:
        ranks.update({title: int(n) for n, title in NUMBERED.findall(text_of(replies))})
        if not any(more in b.text for b in buttons(replies)):
            break
        replies = await client.press(client.button(more))

    def position(title: str) -> int:
        return next(rank for shown, rank in ranks.items() if shown.startswith(title))

    assert len(ranks) == 11
    assert not any(title in first_page for title in VECTORIZATION)
    assert max(map(position, QUANTIZATION)) < min(map(position, VECTORIZATION))
