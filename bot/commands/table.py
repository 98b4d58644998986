"""The command table: every chat command and button kind, declared once.

Menus (Telegram's setMyCommands, both languages), /start's list, /help, the words
that start a command on WeChat, WeCom and the terminal, and how replies spell a
command there are all derived from these rows (bot/commands/spec.py). To add a
command: write its handler, add one row here (in the order menus show it) and its
texts to `bot.i18n.COMMAND_TEXTS`.
"""

from __future__ import annotations

from typing import Final

from bot.commands import (
    admin,
    browse,
    corrections_switch,
    meta,
    search,
    series,
    settings,
    subscriptions,
)
from bot.commands.buttons import IssueList, IssuePart, OpenIssue, SearchMore, SettingChoice, Toggle
from bot.commands.spec import ButtonSpec, CommandSpec, CommandTable, Word

COMMAND_TABLE: Final = CommandTable(
    (
        CommandSpec("start", meta.start, words=(Word("开始"),), changes_chat="with_args"),
        CommandSpec("help", meta.help_, words=(Word("帮助"), Word("?"), Word("？"))),
        CommandSpec(
            "latest", series.series_aware(browse.latest), words=(Word("最新", glued=True),)
        ),
        CommandSpec("issue", series.series_aware(browse.issue_)),
        CommandSpec(
            "issues",
            series.series_aware(browse.issues),
            words=(Word("往期"),),
            aliases=(Word("archive"),),
        ),
        CommandSpec(
            "search",
            search.search_cmd,
            words=(Word("搜索", glued=True),),
            aliases=(Word("find"),),
        ),
        CommandSpec(
            "sections",
            series.series_aware(subscriptions.sections),
            words=(Word("栏目"),),
            aliases=(Word("topics"),),
        ),
        CommandSpec(
            "subscribe",
            series.series_aware(subscriptions.subscribe),
            words=(Word("订阅", glued=True),),
            aliases=(Word("sub"),),
            changes_chat="with_args",
        ),
        CommandSpec(
            "unsubscribe",
            series.series_aware(subscriptions.unsubscribe),
            words=(Word("退订", glued=True), Word("取消订阅", glued=True)),
            aliases=(Word("unsub"),),
            changes_chat="with_args",
        ),
        CommandSpec(
            "settings",
            settings.settings,
            words=(
                Word("设置", glued=True),
                Word("暂停推送", ("pause",)),
                Word("暂停", ("pause",)),
                Word("恢复推送", ("resume",)),
                Word("恢复", ("resume",)),
            ),
            aliases=(
                Word("pause", ("pause",)),
                Word("resume", ("resume",)),
                Word("lang", ("lang",)),
                Word("language", ("lang",)),
            ),
            changes_chat="with_args",
        ),
        CommandSpec("stop", meta.stop, changes_chat="always"),
        CommandSpec("stats", admin.stats, words=(Word("统计"),), admin=True),
        CommandSpec("preview", admin.preview, admin=True),
        CommandSpec("publish", admin.publish, admin=True),
        CommandSpec(
            "corrections",
            corrections_switch.corrections,
            words=(Word("更正"), Word("关闭更正", ("off",)), Word("开启更正", ("on",))),
            admin=True,
        ),
    ),
    (
        ButtonSpec(OpenIssue, browse.on_overview),
        ButtonSpec(IssuePart, browse.on_section),
        ButtonSpec(IssueList, browse.on_list),
        ButtonSpec(SearchMore, search.on_more),
        ButtonSpec(Toggle, subscriptions.on_toggle, changes_chat=True),
        ButtonSpec(SettingChoice, settings.on_setting, changes_chat=True),
    ),
)

# With several series configured, the command core uses COMMAND_TABLE.for_series(...):
# /series is then in the menus, /start and /help (bot/commands/series.py).
SERIES_COMMANDS: Final = (
    CommandSpec("series", series.series_cmd, words=(Word("系列"),), changes_chat="with_args"),
)
