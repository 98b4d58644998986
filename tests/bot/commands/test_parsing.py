"""parse_command: slash commands, @botname, full-width slash, spaces, Chinese aliases."""

from __future__ import annotations

import pytest

from bot.commands import Invocation, parse_command


def test_plain_slash_command_with_arguments() -> None:
    assert parse_command("/subscribe papers chips", "briefbot") == Invocation(
        "subscribe", ("papers", "chips"), "papers chips"
    )


def test_command_addressed_to_us_is_marked_mentioned() -> None:
    inv = parse_command("/latest@BriefBot 论文", "briefbot")
    assert inv == Invocation("latest", ("论文",), "论文", mentioned=True)


def test_command_for_another_bot_is_ignored() -> None:
    assert parse_command("/latest@otherbot", "briefbot") is None
    assert parse_command("/search@other_bot 量化", "briefbot") is None


def test_unknown_bot_name_accepts_any_addressee() -> None:
    inv = parse_command("/help@whatever", "")
    assert inv is not None and inv.name == "help" and not inv.mentioned


@pytest.mark.parametrize(
    "text",
    [
        "／latest 论文",
        "  /latest   论文  ",
        "/LATEST 论文",
        "/ latest 论文",
        "/latest\u3000论文",
        "／ｌａｔｅｓｔ 论文",
    ],
)
def test_full_width_slash_case_and_spaces(text: str) -> None:
    inv = parse_command(text, "briefbot")
    assert inv is not None
    assert (inv.name, inv.args, inv.raw_args) == ("latest", ("论文",), "论文")


def test_multiline_arguments_are_split_on_any_whitespace() -> None:
    inv = parse_command("/search 量化\n芯片", "briefbot")
    assert inv is not None and inv.args == ("量化", "芯片")


@pytest.mark.parametrize(
    "text", ["", "   ", "hello", "最新", "/", "/usr/bin/python", "搜索 量化", "latest", "help"]
)
def test_not_commands_on_telegram(text: str) -> None:
    assert parse_command(text, "briefbot", platform="telegram") is None


def test_unknown_slash_name_still_parses_for_a_hint() -> None:
    inv = parse_command("/frobnicate 1", "briefbot")
    assert inv is not None and inv.name == "frobnicate"


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("最新", "latest", ()),
        ("最新 论文", "latest", ("论文",)),
        ("搜索 量化 芯片", "search", ("量化", "芯片")),
        ("搜索量化", "search", ("量化",)),
        ("订阅 论文", "subscribe", ("论文",)),
        ("订阅论文", "subscribe", ("论文",)),
        ("退订 芯片", "unsubscribe", ("芯片",)),
        ("取消订阅 芯片", "unsubscribe", ("芯片",)),
        ("栏目", "sections", ()),
        ("设置", "settings", ()),
        ("设置 语言 英文", "settings", ("语言", "英文")),
        ("帮助", "help", ()),
        ("?", "help", ()),
        ("？", "help", ()),
        ("暂停", "settings", ("pause",)),
        ("恢复推送", "settings", ("resume",)),
        ("/最新 论文", "latest", ("论文",)),
    ],
)
@pytest.mark.parametrize("platform", ["wechat", "wecom", "console"])
def test_chinese_aliases_on_text_platforms(
    text: str, name: str, args: tuple[str, ...], platform: str
) -> None:
    inv = parse_command(text, "", platform=platform)
    assert inv is not None
    assert (inv.name, inv.args) == (name, args)


@pytest.mark.parametrize("text", ["栏目好多", "帮助我", "?abc", "你好", "今天最新的消息"])
def test_words_that_merely_contain_an_alias_are_not_commands(text: str) -> None:
    assert parse_command(text, "", platform="wechat") is None


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("latest", "latest", ()),
        ("Latest papers", "latest", ("papers",)),
        ("search MNN", "search", ("MNN",)),
        ("SEARCH 量化 芯片", "search", ("量化", "芯片")),
        ("subscribe papers chips", "subscribe", ("papers", "chips")),
        ("unsub chips", "unsubscribe", ("chips",)),
        ("help", "help", ()),
        ("topics", "sections", ()),
        ("lang en", "settings", ("lang", "en")),
    ],
)
@pytest.mark.parametrize("platform", ["wechat", "wecom", "console"])
def test_english_words_on_text_platforms(
    text: str, name: str, args: tuple[str, ...], platform: str
) -> None:
    inv = parse_command(text, "", platform=platform)
    assert inv is not None
    assert (inv.name, inv.args) == (name, args)


@pytest.mark.parametrize("text", ["latestnews", "helpful tips", "hello", "the latest", "MNN"])
def test_english_words_must_lead_and_stand_alone(text: str) -> None:
    assert parse_command(text, "", platform="wechat") is None


def test_english_slash_aliases_map_to_canonical_commands() -> None:
    assert parse_command("/unsub papers", "b") == Invocation("unsubscribe", ("papers",), "papers")
    pause = parse_command("/pause", "b")
    assert pause is not None and (pause.name, pause.args) == ("settings", ("pause",))
    lang = parse_command("/lang en", "b")
    assert lang is not None and (lang.name, lang.args, lang.raw_args) == (
        "settings",
        ("lang", "en"),
        "lang en",
    )
