"""The command table: menus, aliases, text forms and /help all derive from its rows.

The second half is the proof that adding a command is one row plus its texts: a copy
of the table with one more row, and the new command shows up everywhere.
"""

from __future__ import annotations

import re

import pytest

from bot import i18n
from bot.commands import Chat, Core, CoreDeps, Invocation, Reply, parse_command
from bot.commands.context import Ctx
from bot.commands.spec import MENU_DESCRIPTION_CHARS, MENU_NAME, CommandSpec, Word
from bot.commands.table import COMMAND_TABLE
from tests.bot.commands.conftest import Client, text_of

WECHAT = Chat("wechat", "openid-1", "user")
TABLE = COMMAND_TABLE


# --- derived from the real table --------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_menus_follow_telegram_rules_and_list_public_commands(language: str) -> None:
    menu = TABLE.menu(language)
    names = [name for name, _ in menu]
    assert names == [c.name for c in TABLE.commands if not c.admin]
    assert len(set(names)) == len(names)
    for name, description in menu:
        assert MENU_NAME.fullmatch(name), name
        assert 1 <= len(description.strip()) <= MENU_DESCRIPTION_CHARS, name
    assert not {c.name for c in TABLE.admin} & set(names)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_command_has_its_texts_in_both_languages(language: str) -> None:
    for command in TABLE.commands:
        text = i18n.command_text(language, command.name)
        assert text.description.strip()
        assert bool(text.example) <= bool(text.args), command.name  # an example needs a syntax


def test_every_text_word_parses_back_to_its_command_with_its_preset() -> None:
    assert TABLE.text_aliases, "the table declares no words"
    for command in TABLE.commands:
        for word in command.words:
            for platform in ("wechat", "wecom", "console"):
                parsed = parse_command(word.text, platform=platform)
                assert parsed is not None, (word, platform)
                assert (parsed.name, parsed.args) == (command.name, word.preset), word
            assert parse_command(word.text, platform="telegram") is None  # slash only there


def test_every_english_alias_parses_back_as_slash_and_as_a_plain_word() -> None:
    assert TABLE.slash_aliases
    for command in TABLE.commands:
        for word in command.aliases:
            for text, platform in ((f"/{word.text}", "telegram"), (word.text, "console")):
                parsed = parse_command(f"{text} x", platform=platform)
                assert parsed is not None, (text, platform)
                assert (parsed.name, parsed.args) == (command.name, (*word.preset, "x"))


def test_command_names_are_plain_words_on_text_platforms() -> None:
    for command in TABLE.commands:
        parsed = parse_command(command.name.upper(), platform="wecom")
        assert parsed == Invocation(command.name)


def test_text_forms_are_the_reverse_of_the_words() -> None:
    """How replies on WeChat spell a command must parse back to that same command."""
    with_words = {c.name for c in TABLE.commands if any(not w.preset for w in c.words)}
    assert set(TABLE.text_forms) == with_words
    for name, form in TABLE.text_forms.items():
        assert parse_command(form, platform="wechat") == Invocation(name)


async def test_help_lists_every_command_in_both_languages(core: Core) -> None:
    for language in ("zh-hans", "en"):
        public = text_of(await Client(core, language_code=language).send("/help"))
        admin = text_of(await Client(core, language_code=language, is_admin=True).send("/help"))
        lang = "en" if language == "en" else "zh"
        for command in TABLE.commands:
            line = f"/{command.name} — {i18n.describe(lang, command.name)}"
            args = i18n.usage(lang, command.name)[0]
            if args:
                line = f"/{command.name} {args} — {i18n.describe(lang, command.name)}"
            assert (line in public) is not command.admin, (language, line)
            assert line in admin, (language, line)


async def test_help_on_wechat_spells_commands_by_their_text_form(core: Core) -> None:
    text = text_of(await Client(core, chat=WECHAT).send("帮助"))
    for name, form in TABLE.text_forms.items():
        if not TABLE.by_name[name].admin:
            assert f"\n{form}" in text, form
    assert "/issue YYYY-MM-DD" in text  # no Chinese word: the slash form works everywhere


# --- adding a row -------------------------------------------------------------------


async def _ping(ctx: Ctx, inv: Invocation) -> list[Reply]:
    return [ctx.say(f"pong {inv.raw_args}".strip())]


PING = CommandSpec("ping", _ping, words=(Word("乒乓", glued=True),), aliases=(Word("pp"),))
SECRET = CommandSpec("secret", _ping, words=(Word("机密"),), admin=True)


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> None:
    zh = i18n.CommandText("测试连通", "[文字]", "你好")
    en = i18n.CommandText("Check the bot answers", "[text]", "hello")
    monkeypatch.setitem(i18n.COMMAND_TEXTS, "ping", (zh, en))
    monkeypatch.setitem(i18n.COMMAND_TEXTS, "secret", (i18n.CommandText("机密"),) * 2)


@pytest.fixture
def extended(texts: None, deps: CoreDeps) -> Core:
    return Core(deps, table=TABLE.adding(PING, SECRET))


async def test_a_new_row_appears_in_menus_aliases_and_help(extended: Core) -> None:
    assert ("ping", "测试连通") in extended.command_menu("zh")
    assert ("ping", "Check the bot answers") in extended.command_menu("en")
    assert "secret" not in dict(extended.command_menu("en"))  # admin rows stay out of menus
    assert "ping" not in dict(Core(extended.deps).command_menu("en"))  # the real table: untouched

    help_text = text_of(await Client(extended).send("/help"))
    assert "/ping [文字] — 测试连通" in help_text and "例：/ping 你好" in help_text
    assert "/secret" not in help_text
    wechat_help = text_of(await Client(extended, chat=WECHAT).send("帮助"))
    assert "乒乓 [文字] — 测试连通" in wechat_help  # its text form, derived from its words
    start = text_of(await Client(extended, language_code="en").send("/start"))
    assert "/ping — Check the bot answers" in start


async def test_a_new_row_is_reachable_by_every_spelling(extended: Core) -> None:
    private, wechat = Client(extended), Client(extended, chat=WECHAT)
    assert text_of(await private.send("/ping a")) == "pong a"
    assert text_of(await private.send("/pp b")) == "pong b"
    assert text_of(await private.send("/ping@briefbot c")) == "pong c"
    assert text_of(await wechat.send("乒乓d")) == "pong d"  # glued to its argument
    assert text_of(await wechat.send("PING e")) == "pong e"


async def test_a_new_admin_row_is_filtered_for_everyone_else(extended: Core) -> None:
    refused = text_of(await Client(extended).send("/secret"))
    assert refused == i18n.t("zh", "admin_only")
    assert text_of(await Client(extended, is_admin=True).send("/secret x")) == "pong x"
    admin_help = text_of(await Client(extended, is_admin=True).send("/help"))
    assert "/secret — 机密" in admin_help.split(i18n.t("zh", "help_admin"))[1]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (CommandSpec("latest", _ping), "declared twice"),
        (CommandSpec("p2", _ping, words=(Word("最新"),)), "declared twice"),
        (CommandSpec("p3", _ping, aliases=(Word("find"),)), "declared twice"),
        (CommandSpec("p4", _ping, aliases=(Word("help"),)), "command names"),
        (CommandSpec("Ping", _ping), "[a-z0-9_]"),
        (CommandSpec("p" * 33, _ping), "[a-z0-9_]"),
        (CommandSpec("p5", _ping, aliases=(Word("p-5"),)), "[a-z0-9_]"),
        (CommandSpec("nothing_said", _ping), "without texts"),
    ],
)
def test_a_bad_row_is_refused_when_the_table_is_built(
    row: CommandSpec, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if row.name != "nothing_said" and row.name not in i18n.COMMAND_TEXTS:
        monkeypatch.setitem(i18n.COMMAND_TEXTS, row.name, i18n.COMMAND_TEXTS["help"])
    with pytest.raises(ValueError, match=re.escape(problem)):
        TABLE.adding(row)
