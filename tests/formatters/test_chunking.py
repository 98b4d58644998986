"""The generic chunker: boundary preferences, well-formed pieces, continuation, fill."""

from __future__ import annotations

import math

from formatters.blocks import BOLD, Block, Run, Unit, link, text_block
from formatters.chunking import Packed, pack
from formatters.telegram import TelegramCodec

from .telegram_html import validate_telegram_html, visible_text

CODEC = TelegramCodec()


def para(text: str, *styles, **kw) -> Block:
    return text_block(text, tuple(styles), **kw)


def texts(messages: list[Packed]) -> list[str]:
    return [visible_text(m.text) for m in messages]


def test_small_units_share_a_message() -> None:
    units = [Unit((para("one"),)), Unit((para("two", gap_before=True),))]
    [message] = pack(units, CODEC, 100)
    assert message.text == "one\n\ntwo"
    assert message.size == len("one\n\ntwo")


def test_units_move_whole_to_the_next_message_when_little_room_is_left() -> None:
    units = [Unit((para("a" * 80),)), Unit((para("b" * 30, gap_before=True),))]
    assert texts(pack(units, CODEC, 100)) == ["a" * 80, "b" * 30]


def test_paragraph_boundary_is_preferred_to_a_sentence() -> None:
    entry = Unit((para("第一段。" * 10), para("第二段。" * 10)))
    assert texts(pack([entry], CODEC, 45)) == ["第一段。" * 10, "第二段。" * 10]
    # ...unless that would waste too much room: then the sentence wins
    assert texts(pack([entry], CODEC, 60))[0] == "第一段。" * 10 + "\n" + "第二段。" * 4


def test_sentence_then_space_then_anywhere() -> None:
    sentences = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
    assert texts(pack([Unit((para(sentences),))], CODEC, 40)) == [
        "Alpha beta gamma. Delta epsilon zeta.",
        "Eta theta iota.",
    ]
    words = "alpha beta gamma delta epsilon zeta eta theta"
    first, *_ = texts(pack([Unit((para(words),))], CODEC, 20))
    assert first == "alpha beta gamma"
    assert texts(pack([Unit((para("x" * 50),))], CODEC, 20)) == ["x" * 20, "x" * 20, "x" * 10]


def test_chinese_sentence_punctuation_is_a_boundary() -> None:
    text = "甲乙丙丁戊己庚辛。壬癸子丑寅卯辰巳！午未申酉戌亥"
    assert (
        texts(pack([Unit((para(text),))], CODEC, 20))[0] == "甲乙丙丁戊己庚辛。壬癸子丑寅卯辰巳！"
    )


def test_hard_cuts_respect_surrogate_pairs_and_emoji_sequences() -> None:
    family = "👨\u200d👩\u200d👧"
    text = ("😀" * 7) + family + ("e\u0301" * 5)
    messages = pack([Unit((para(text),))], CODEC, 16)
    assert "".join(texts(messages)) == text
    assert all(m.size <= 16 for m in messages)
    assert any(m.endswith("😀") for m in texts(messages))
    assert any(family in m for m in texts(messages))  # never split
    assert all(not m.startswith("\u0301") for m in texts(messages))


def test_formatting_is_closed_and_reopened_across_messages() -> None:
    block = Block(
        "para", (Run("plain "), Run("bold words " * 10, (BOLD, link("https://x.org/?a&b"))))
    )
    messages = pack([Unit((block,))], CODEC, 50)
    assert len(messages) > 1
    for message in messages:
        assert validate_telegram_html(message.text) == []
    assert all(m.text.count("<b>") == m.text.count("</b>") == 1 for m in messages)
    assert all('<a href="https://x.org/?a&amp;b">' in m.text for m in messages)


def test_a_continued_section_repeats_its_heading() -> None:
    heading = para("论文", kind="heading", keep_with_next=True)
    context = para("论文（续）", kind="heading", keep_with_next=True)
    entries = [para(f"{n}. " + "内容" * 15, gap_before=True) for n in range(3)]
    units = [Unit((heading, entries[0]), context, opens_context=True)]
    units += [Unit((e,), context) for e in entries[1:]]
    messages = pack(units, CODEC, 40)
    assert [m.text.split("\n")[0] for m in messages] == [
        "<b>论文</b>",
        "<b>论文（续）</b>",
        "<b>论文（续）</b>",
    ]
    next_section = [
        Unit(
            (para("博文", kind="heading", gap_before=True, keep_with_next=True), para("x" * 30)),
            context,
            True,
        )
    ]
    assert "续" not in pack(units[:1] + next_section, CODEC, 40)[1].text


def test_a_heading_is_never_left_alone_at_the_end_of_a_message() -> None:
    heading = para("Heading", kind="heading", keep_with_next=True)
    unit = Unit((para("a" * 36), heading, para("b" * 10)))
    first, second = pack([unit], CODEC, 45)
    assert first.text == "a" * 36
    assert second.text == "<b>Heading</b>\n" + "b" * 10


def test_entity_limit_is_respected() -> None:
    units = [Unit((Block("para", (Run(f"w{i}", (BOLD,)), Run(" "))),)) for i in range(30)]
    messages = pack(units, CODEC, 4096, max_entities=10)
    assert len(messages) == 3
    assert all(m.entities <= 10 and m.text.count("<b>") <= 10 for m in messages)


def test_messages_are_filled_well() -> None:
    units = [Unit((para("x" * 150 + "。" + "y" * 149, gap_before=True),)) for _ in range(40)]
    whole = pack(units, CODEC, None)[0]
    messages = pack(units, CODEC, 1000)
    assert len(messages) <= math.ceil(whole.size / 1000) + 1
    assert sum(m.size for m in messages) >= whole.size - 2 * len(messages)


def test_blank_input_gives_no_messages() -> None:
    assert pack([], CODEC, 100) == []
    assert pack([Unit((para("  "), para("")))], CODEC, 100) == []


def test_unlimited_gives_one_message() -> None:
    units = [Unit((para("a" * 5000),)), Unit((para("b" * 5000),))]
    assert len(pack(units, CODEC, None)) == 1
