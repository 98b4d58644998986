"""User-facing texts of the chat commands in Chinese and English.

`t(lang, key, **fields)` picks the text for `lang` ("zh" or "en") and fills its
`{fields}` with str.format. Every key has both languages (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from briefings.errors import WARNINGS, read_warning

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"
ECHO_CHARS: Final = 40  # one word of the user's, quoted back
ECHO_ITEMS: Final = 5  # words of the user's listed back before "and N more"

# key -> (zh, en)
TEXTS: Final[dict[str, tuple[str, str]]] = {
    # --- start / help / stop -----------------------------------------------------------
    "welcome": (
        "欢迎使用「{title}」机器人！\n"
        "每期简报发布后，我会把你订阅的栏目推送到这里，也可以随时查阅往期和搜索。",
        "Welcome to the “{title}” bot!\n"
        "When a new issue comes out I send you the sections you subscribed to; "
        "you can also browse and search past issues at any time.",
    ),
    "start_again": (
        "欢迎回来！发送 {help} 查看全部命令，发送 {sections} 修改订阅。",
        "Welcome back! Send {help} for the commands, {sections} to change your subscription.",
    ),
    "nothing_subscribed": (
        "当前没有订阅任何内容，发送 {sections} 选择栏目。",
        "Nothing subscribed yet; send {sections} to choose sections.",
    ),
    "paused_note": (
        "推送已暂停，发送 {resume} 恢复。",
        "Pushes are paused; send {resume} to resume.",
    ),
    "unknown_payload": (
        "链接里的“{payload}”不是栏目或标签，已为你订阅默认内容。",
        "“{payload}” in the link is not a section or topic; you got the default subscription.",
    ),
    "commands_title": ("命令：", "Commands:"),
    "help_title": ("命令与示例：", "Commands with examples:"),
    "help_example": ("例：{example}", "e.g. {example}"),
    "help_names": (
        "栏目和标签可以用英文键、中文名或别名，例如 papers、论文、paper；全部 = all。",
        "Sections and topics can be named by key, name or alias, in English or Chinese, "
        "e.g. papers, Papers, paper; all = everything.",
    ),
    "help_admin": ("管理员命令：", "Admin commands:"),
    "stopped": (
        "已停止推送，并删除了本聊天的订阅和设置。\n想再订阅时发送 {start}。",
        "Pushes stopped and everything stored about this chat deleted.\n"
        "Send {start} to subscribe again.",
    ),
    "stop_nothing": (
        "本聊天没有订阅，也没有保存任何数据。",
        "This chat has no subscription and nothing is stored about it.",
    ),
    # --- generic -----------------------------------------------------------------------
    "unknown_command": (
        "不认识的命令 {command}。发送 {help} 查看全部命令。",
        "Unknown command {command}. Send {help} for the list of commands.",
    ),
    "not_a_command": (
        "发送 {help} 查看我能做什么。",
        "Send {help} to see what I can do.",
    ),
    "number_no_button": (
        "没有编号为 {number} 的按钮：请直接点按消息下方的按钮，或发送 {help} 查看全部命令。",
        "No button is numbered {number}: tap the buttons under a message, "
        "or send {help} for the list of commands.",
    ),
    "number_not_command": (
        "{number} 不是命令：发送 {help} 查看全部命令。",
        "{number} is not a command: send {help} for the list of commands.",
    ),
    "slow_down": (
        "操作太频繁了，请稍等片刻再试。",
        "You are sending commands too fast; please wait a moment.",
    ),
    "error": (
        "抱歉，处理时出了点问题，请稍后再试。",
        "Sorry, something went wrong; please try again later.",
    ),
    "expired_button": (
        "这个按钮已失效，请重新发送命令。",
        "This button has expired; please send the command again.",
    ),
    "admin_only": (
        "抱歉，这个命令仅限管理员使用。",
        "Sorry, this command is for administrators only.",
    ),
    "group_admins_only": (
        "抱歉，只有本群的管理员可以修改群的订阅和设置。你可以私聊我，订阅到自己的聊天里。",
        "Sorry, only this group's admins can change the group's subscription and settings. "
        "You can message me privately to subscribe in your own chat.",
    ),
    "group_admin_unknown": (
        "暂时无法确认你是不是本群的管理员，请稍后再试。",
        "I could not check whether you are an admin of this group; please try again later.",
    ),
    "and_more": ("及其他 {count} 项", "and {count} more"),
    "no_such_choice": (
        "没有编号 {number}，请输入 1 到 {count} 之间的数字。",
        "There is no choice {number}; type a number from 1 to {count}.",
    ),
    "no_choices": (
        "上一条回复没有可按的按钮，请发送命令。",
        "The last reply has no buttons to press; send a command instead.",
    ),
    # --- issues --------------------------------------------------------------------------
    "archive_empty": ("还没有任何一期简报。", "There are no issues yet."),
    "latest_hint": (
        "查看某个栏目，请发送 {example}。",
        "To read one section, send {example}.",
    ),
    "whole_issue": ("全文", "Everything"),
    "unknown_part": (
        "“{name}”不是这一期的栏目或标签。本期栏目：{sections}",
        "“{name}” is not a section or topic of this issue. Sections: {sections}",
    ),
    "part_empty": (
        "{date} 这一期没有“{name}”的内容。",
        "The {date} issue has nothing on “{name}”.",
    ),
    "issue_usage": (
        "用法：{issue} YYYY-MM-DD，例如 {example}。发送 {issues} 查看往期。",
        "Usage: {issue} YYYY-MM-DD, e.g. {example}. Send {issues} for past issues.",
    ),
    "bad_date": (
        "“{text}”不是日期，请用 YYYY-MM-DD，例如 {example}。",
        "“{text}” is not a date; use YYYY-MM-DD, e.g. {example}.",
    ),
    "no_numbered_issue": ("没有第 {number} 期。", "There is no issue #{number}."),
    "issue_usage_number": (
        "用法：{issue} 期号，例如 {example}。发送 {issues} 查看往期。",
        "Usage: {issue} NUMBER, e.g. {example}. Send {issues} for past issues.",
    ),
    "bad_issue_number": (
        "“{text}”不是期号，请发送期号，例如 {example}。",
        "“{text}” is not an issue number; send a number, e.g. {example}.",
    ),
    "no_issue": (
        "没有 {date} 这一期。",
        "There is no issue dated {date}.",
    ),
    "nearest_issues": ("相近的几期：{dates}", "Nearby issues: {dates}"),
    "issues_title": ("往期简报（最新在前）：", "Past issues (newest first):"),
    "issues_line": ("{date} · {count} 条", "{date} · {count} entries"),
    "issues_line_one": ("{date} · {count} 条", "{date} · {count} entry"),
    "older": ("更早 »", "Older »"),
    "issues_end": ("没有更早的了。", "No older issues."),
    # --- search --------------------------------------------------------------------------
    "search_usage": (
        "用法：{search} 关键词，例如 {example}。\n"
        '可以用多个词（都要匹配）、"带引号的短语"，'
        "以及 section:论文、topic:chips、year:2026 筛选。",
        "Usage: {search} words, e.g. {example}.\n"
        'Use several words (all must match), "a quoted phrase", and filters such as '
        "section:papers, topic:chips, year:2026.",
    ),
    "search_bad": ("无法搜索：{reason}", "Cannot search: {reason}"),
    # why a query cannot be searched (storage.search QueryError codes)
    "query_empty": (
        "请输入要搜索的词，例如 量化 或 MNN。",
        "Type some words, e.g. quantization or MNN.",
    ),
    "query_too_long": (
        "搜索内容太长（最多 {limit} 个字符）。",
        "The query is too long (at most {limit} characters).",
    ),
    "query_filter_value": (
        "{kind}: 后面需要一个值，例如 {example}。",
        "{kind}: needs a value, e.g. {example}.",
    ),
    "query_too_many": ("词太多了：最多 {limit} 个。", "Too many words: use at most {limit}."),
    "query_no_words": (
        "没有可搜索的词（需要字母、数字或汉字）。",
        "The query has no searchable words (letters, digits or Chinese).",
    ),
    "query_bad_date": (
        "看不懂 {filter}，请用 year:2020、date:2020-03 或 date:2020-01..2020-06。",
        "Could not read {filter}; use e.g. year:2020, date:2020-03 or date:2020-01..2020-06.",
    ),
    "query_date_open": (
        "date: 至少需要一端，例如 date:2020-01..2020-06。",
        "date: needs at least one end, e.g. date:2020-01..2020-06.",
    ),
    "query_date_order": ("{filter} 的结束早于开始。", "{filter} ends before it starts."),
    "query_page": ("页码从 1 开始。", "Pages are numbered from 1."),
    "query_per_page": ("每页最多 {limit} 条。", "Show between 1 and {limit} results per page."),
    "search_none": (
        "没有找到与“{query}”相关的内容。试试更短或更宽泛的词，或去掉筛选条件。",
        "Nothing found for “{query}”. Try fewer or broader words, or drop the filters.",
    ),
    "search_more": ("下一页 »", "Next page »"),
    "intro": ("导读", "Overview"),
    "search_end": ("没有更多结果了。", "No more results."),
    # --- subscriptions -------------------------------------------------------------------
    "everything": ("全部栏目和标签", "everything (all sections and topics)"),
    "everything_button": ("全部", "Everything"),
    "subscribe_usage": (
        "用法：{subscribe} 栏目或标签…，例如 {example}；{subscribe} 全部 订阅全部。",
        "Usage: {subscribe} section-or-topic…, e.g. {example}; {subscribe} all for everything.",
    ),
    "unsubscribe_usage": (
        "用法：{unsubscribe} 栏目或标签…，例如 {example}；{unsubscribe} 全部 退订全部。",
        "Usage: {unsubscribe} section-or-topic…, e.g. {example}; "
        "{unsubscribe} all to unsubscribe from everything.",
    ),
    "subscribed": ("已订阅：{names}", "Subscribed: {names}"),
    "already_subscribed": ("本来就已订阅：{names}", "Already subscribed: {names}"),
    "included_in_everything": (
        "已包含在内：{names}（你订阅的是全部栏目和标签）",
        "Already included: {names} (you get everything)",
    ),
    "unsubscribed": ("已退订：{names}", "Unsubscribed: {names}"),
    "unsubscribed_all": (
        "已退订全部栏目和标签。",
        "Unsubscribed from everything: every section and topic.",
    ),
    "nothing_was": ("本来就没有订阅任何内容。", "You were not subscribed to anything."),
    "not_subscribed": ("本来就没有订阅：{names}", "Was not subscribed: {names}"),
    "topic_still_in_sections": (
        "注意：与{names}相关的条目仍会随你订阅的栏目一起推送。",
        "Note: entries on {names} still come with the sections you get.",
    ),
    "section_still_by_topics": (
        "注意：{names}中与你订阅的标签相关的条目仍会推送；想完全不收，请同时退订这些标签。",
        "Note: entries of {names} on the topics you follow still come; "
        "unsubscribe from those topics too to stop them all.",
    ),
    "unknown_names": (
        "不认识：{names}。可用的有：",
        "Unknown: {names}. Valid names are:",
    ),
    "valid_sections": ("栏目：{items}", "Sections: {items}"),
    "valid_topics": ("标签：{items}", "Topics: {items}"),
    "valid_all": ("全部：all / 全部", "Everything: all"),
    "series_title": (
        "本机器人推送这些系列（点按钮订阅或退订）：",
        "This bot carries these series (tap to subscribe or unsubscribe):",
    ),
    "series_title_text": ("本机器人推送这些系列：", "This bot carries these series:"),
    "series_hint": (
        "{latest} 看一个系列的最新一期，{sections} 选它的栏目与标签，{series} 订阅或退订它。",
        "{latest} shows a series' latest issue, {sections} chooses its sections and "
        "topics, {series} subscribes or unsubscribes.",
    ),
    "series_subscribed": ("已订阅「{title}」的全部内容。", "Subscribed to all of “{title}”."),
    "series_unsubscribed": ("已退订「{title}」。", "Unsubscribed from “{title}”."),
    "unknown_series": (
        "没有叫「{name}」的系列；可选：{names}",
        "No series “{name}”; series: {names}",
    ),
    "only_one_series": ("本机器人只推送一个系列：{title}", "This bot carries one series: {title}"),
    "sections_title": (
        "订阅设置：点按钮切换（✅ 已订阅）。\n栏目按整栏推送，标签推送各栏目中相关的条目。",
        "Subscriptions: tap to toggle (✅ subscribed).\n"
        "A section sends the whole section; a topic sends matching entries from any section.",
    ),
    "sections_state": ("当前订阅：{names}", "Currently subscribed to: {names}"),
    "sections_none": ("当前没有订阅任何内容。", "Currently subscribed to nothing."),
    # --- settings ------------------------------------------------------------------------
    "settings_title": ("本聊天的设置：", "Settings of this chat:"),
    "settings_format": ("推送格式：{value}", "Push format: {value}"),
    "settings_language": ("语言：{value}", "Language: {value}"),
    "settings_pushes": ("推送：{value}", "Pushes: {value}"),
    "settings_usage": (
        "也可以发送 {settings} format full|digest、{settings} lang zh|en、"
        "{settings} pause、{settings} resume。",
        "You can also send {settings} format full|digest, {settings} lang zh|en, "
        "{settings} pause, {settings} resume.",
    ),
    "settings_unknown": (
        "不认识的设置：{text}。",
        "Unknown setting: {text}.",
    ),
    "format_full": ("完整", "full"),
    "format_digest": ("摘要（只有标题和链接）", "digest (titles and links)"),
    "pushes_on": ("开启", "on"),
    "pushes_paused": ("已暂停", "paused"),
    "language_zh": ("中文", "中文"),
    "language_en": ("English", "English"),
    "button_full": ("完整格式", "Full format"),
    "button_digest": ("摘要格式", "Digest format"),
    "button_pause": ("⏸ 暂停推送", "⏸ Pause pushes"),
    "button_resume": ("▶ 恢复推送", "▶ Resume pushes"),
    "saved": ("已保存。", "Saved."),
    # --- admin ---------------------------------------------------------------------------
    "stats_title": ("订阅统计", "Subscriber statistics"),
    # with several series: one block per series (or the one `/stats SERIES` names)
    "stats_series": ("【{title}】（{slug}）", "{title} ({slug})"),
    "stats_subscribers": ("订阅者：{count}", "Subscribers: {count}"),
    "stats_platforms": ("按平台：{items}", "By platform: {items}"),
    "stats_paused": (
        "已暂停：{paused}；已失效：{inactive}",
        "Paused: {paused}; inactive: {inactive}",
    ),
    "stats_all": ("订阅全部：{count}", "Subscribed to everything: {count}"),
    "stats_sections": ("按栏目：{items}", "By section: {items}"),
    "stats_topics": ("按标签：{items}", "By topic: {items}"),
    "stats_pushes": ("最近推送：", "Last pushes:"),
    "stats_push_line": ("{date} 于 {at}：{counts}", "{date} at {at}: {counts}"),
    "stats_no_pushes": ("还没有推送过。", "Nothing pushed yet."),
    "none": ("无", "none"),
    # delivery statuses (storage.models.DELIVERY_STATUSES) and platforms in /stats
    "status_pending": ("待发送", "pending"),
    "status_sending": ("发送中", "sending"),
    "status_sent": ("已发送", "sent"),
    "status_failed": ("失败", "failed"),
    "status_dropped": ("已放弃", "dropped"),
    "platform_telegram": ("Telegram", "Telegram"),
    "platform_wechat": ("微信公众号", "WeChat"),
    "platform_wecom": ("企业微信", "WeCom"),
    "platform_console": ("终端", "terminal"),
    "publish_usage": (
        "用法：{command} YYYY-MM-DD、{command} 期号（如 {command} 51）或 {command} latest；"
        "有多个系列时先写系列：{command} 系列 51",
        "Usage: {command} YYYY-MM-DD, {command} NUMBER (like {command} 51) or "
        "{command} latest; with several series, the series first: {command} SERIES 51",
    ),
    "no_series_issue": ("{series}没有第 {number} 期。", "{series} has no issue #{number}."),
    "publish_unconfigured": (
        "没有配置推送，无法 {command}。",
        "Publishing is not configured, so {command} is unavailable.",
    ),
    "publish_failed": ("{command} 失败：{error}", "{command} failed: {error}"),
    # /preview and /publish answers (bot.publish.results), also the CLI's in English
    "n_chats": ("{count} 个聊天", "{count} chats"),
    "n_chats_one": ("{count} 个聊天", "{count} chat"),
    "n_renderings": ("{count} 种版本", "{count} renderings"),
    "n_renderings_one": ("{count} 种版本", "{count} rendering"),
    "n_messages": ("{count} 条消息", "{count} messages"),
    "n_messages_one": ("{count} 条消息", "{count} message"),
    "n_deliveries": ("{count} 份推送", "{count} deliveries"),
    "n_deliveries_one": ("{count} 份推送", "{count} delivery"),
    "preview_title": (
        "预演（不发送）：{title} [{date}]，内容 {hash}",
        "Dry run (nothing sent): {title} [{date}], content {hash}",
    ),
    "preview_counts": (
        "将推送给 {chats}，共 {renderings}；{empty}没有匹配的条目，不会收到。",
        "{chats} would get it in {renderings}; {empty} would get nothing (no matching entries).",
    ),
    "preview_held": (
        "自动推送自 {at} 起暂扣了这一期：它看起来没写完。手动推送不受影响。",
        "Held by the automatic publication since {at}: it looks unfinished. "
        "A push by hand is not held.",
    ),
    "preview_unfinished": (
        "看起来没写完（自动推送会暂扣）：",
        "Looks unfinished (the automatic publication would hold it):",
    ),
    "preview_line": (
        "{chat}（{kind}）← {rendering}：{messages}",
        "{chat} ({kind}) <- {rendering}: {messages}",
    ),
    "preview_more": ("……还有 {count} 个聊天", "... and {count} more"),
    "published_issue": (
        "已推送 {date} 这一期（内容 {hash}）：{deliveries}，共 {renderings}；"
        "{empty}没有匹配的条目。",
        "Published issue {date} (content {hash}): {deliveries} in {renderings}; "
        "{empty} matched nothing.",
    ),
    "already_published_at": (
        "{date} 这一期已于 {at} 推送（内容 {hash}）；之后的修改只更新存档。",
        "Issue {date} was already published at {at} (content {hash}); "
        "later edits only update the archive.",
    ),
    "already_published": ("{date} 这一期已经推送过了。", "Issue {date} was already published."),
    "preview_usage": (
        "用法：{command} YYYY-MM-DD、{command} 期号或 {command} latest（预演推送；"
        "有多个系列时先写系列：{command} 系列 51）；"
        "{command} 更正 [YYYY-MM-DD|期号]（预演已推送一期的更正，默认最近推送的一期；"
        "有多个系列时先写系列：{command} 更正 系列 51）",
        "Usage: {command} YYYY-MM-DD, {command} NUMBER or {command} latest (a push; "
        "with several series, the series first: {command} SERIES 51); "
        "{command} correction [YYYY-MM-DD|NUMBER] (the correction of a published issue, "
        "by default the newest published one; with several series, the series first: "
        "{command} correction SERIES 51)",
    ),
    # /preview correction (bot.publish.correction_preview)
    "n_operations": ("{count} 次编辑或发送", "{count} edits or sends"),
    "n_operations_one": ("{count} 次编辑或发送", "{count} edit or send"),
    "correction_unconfigured": (
        "这里无法预演更正：没有接入存档的更正功能。",
        "Corrections cannot be previewed here: the archive's corrections are not connected.",
    ),
    "correction_none_published": (
        "最近没有推送过的一期：没有可更正的。",
        "No issue was published recently: there is nothing to correct.",
    ),
    "correction_unpublished": (
        "{date} 这一期没有推送过：修改它不需要更正。",
        "Issue {date} was never pushed: an edit needs no correction.",
    ),
    "correction_current": (
        "读者收到的就是 {date} 这一期的当前内容：没有要更正的。",
        "Readers have the current content of issue {date}: there is nothing to correct.",
    ),
    "correction_off": (
        "{date} 这一期推送后被修改了，但更正已关闭（配置 publish.corrections = false）："
        "修改只更新存档。",
        "Issue {date} was edited after publication, but corrections are off "
        "(setting publish.corrections = false): the edit only updates the archive.",
    ),
    "correction_window_passed": (
        "{date} 这一期推送后被修改了，但已过了更正时限（推送后 {hours} 小时）：修改只更新存档。",
        "Issue {date} was edited after publication, but the corrections window "
        "({hours} hours after publication) has passed: the edit only updates the archive.",
    ),
    "correction_title": (
        "更正预演（不发送）：{title} [{date}]",
        "Correction dry run (nothing sent): {title} [{date}]",
    ),
    "correction_settling": (
        "修改还没稳定：如果没有新的修改，{at} 之后发出。",
        "The edit has not settled yet: it goes out after {at} unless edited again.",
    ),
    "correction_counts": (
        "{edits}的消息会被原地编辑，{messages}会收到一条更正消息（共 {operations}）。",
        "{edits} would have their messages edited in place, {messages} would get a "
        "correction message ({operations} in all).",
    ),
    "correction_nothing": (
        "这次修改不改变读者看到的内容：不会编辑或发送任何消息。",
        "The edit changes nothing readers see: no message would be edited or sent.",
    ),
    "correction_message": (
        "更正消息（每个聊天收到它自己语言的版本）：",
        "The correction message (each chat gets it in its own language):",
    ),
    "correction_changed": ("改动的条目：", "Changed entries:"),
    "correction_removed": ("已删除：{title}", "removed: {title}"),
    "correction_more": ("……还有 {count} 条", "... and {count} more"),
    "correction_switched_off": (
        "{date} 这一期推送后被修改了，但更正已被管理员在聊天中关闭：修改只更新存档，"
        "重新开启后才会更正。",
        "Issue {date} was edited after publication, but corrections were switched off in "
        "the chat by an admin: the edit only updates the archive until they are on again.",
    ),
    "help_corrections": (
        "更正：已推送的一期在推送后 {hours} 小时内被修改时，读者收到的消息会被更正"
        "（Telegram 原地编辑，放不下时发一条更正消息；微信公众号和企业微信只在条目标题或链接"
        "改变时发一条更正消息，每期每天至多一次）。现在{state}。"
        "关闭：发送 {off}（{on} 重新开启）；或在配置里设 publish.corrections = false "
        "并重启，那样聊天里无法开启。",
        "Corrections: when a published issue is edited within {hours} hours of its "
        "publication, what readers got is corrected (edited in place on Telegram, else a "
        "short correction message; on WeChat and WeCom one correction message, only when "
        "an entry's title or link changed, at most once per issue a day). Now {state}. "
        "To switch them off, send "
        "{off} ({on} switches them back on); or set publish.corrections = false in the "
        "configuration and restart, which the chat cannot override.",
    ),
    "corrections_on": ("已开启", "on"),
    "corrections_off": ("已关闭", "off"),
    # /corrections (bot.commands.corrections_switch; the switch: storage.switches)
    "corrections_word_on": ("开", "on"),
    "corrections_word_off": ("关", "off"),
    "corrections_usage": (
        "用法：{command} 查看更正是否开启；{on} 开启，{off} 关闭。",
        "Usage: {command} shows whether corrections are on; {on} and {off} switch them.",
    ),
    "corrections_state_on": (
        "更正已开启：已推送的一期在推送后 {hours} 小时内被修改时，读者收到的消息会被更正。"
        "关闭：{off}",
        "Corrections are on: when a published issue is edited within {hours} hours of its "
        "publication, what readers got is corrected. To switch them off: {off}",
    ),
    "corrections_state_off": (
        "更正已被管理员在聊天中关闭（{at}）：修改只更新存档。开启：{on}",
        "Corrections were switched off in the chat by an admin ({at}): edits only update "
        "the archive. To switch them on: {on}",
    ),
    "corrections_config_off": (
        "更正已在配置中关闭（publish.corrections = false）：修改只更新存档，聊天里无法开启。",
        "Corrections are off in the configuration (publish.corrections = false): edits only "
        "update the archive, and the chat cannot switch them on.",
    ),
    "corrections_switched_off": (
        "已关闭更正：之后的修改只更新存档，已在排队的更正也暂不发出。发送 {on} 重新开启，"
        "那时推送后 {hours} 小时内的修改会被更正，排队的更正也会发出"
        "（已超过 {hours} 小时的作废）。",
        "Corrections switched off: later edits only update the archive, and corrections "
        "already queued are held. Send {on} to switch them back on; edits within {hours} "
        "hours of publication are corrected then, and held corrections go out (those past "
        "the {hours} hours are dropped).",
    ),
    "corrections_switched_on": (
        "已开启更正：推送后 {hours} 小时内的修改会更正读者收到的消息。关闭：{off}",
        "Corrections switched on: edits within {hours} hours of publication correct what "
        "readers got. To switch them off: {off}",
    ),
    "corrections_already_on": (
        "更正本来就是开启的。关闭：{off}",
        "Corrections were already on. To switch them off: {off}",
    ),
    "corrections_already_off": (
        "更正本来就是关闭的（{at} 关闭）。开启：{on}",
        "Corrections were already off (since {at}). To switch them on: {on}",
    ),
    "defect_at_line": ("第 {line} 行：{defect}", "line {line}: {defect}"),
    "defect_empty_section": ("栏目“{heading}”没有条目", "section “{heading}” has no entries"),
    "defect_no_entries": ("这一期没有任何条目", "the issue has no entries"),
    # alerts to admins (bot.publish.alerts: a notifier speaks its renderer's language)
    "alert_held": (
        "已暂扣 {title} [{date}]：它看起来没写完。\n{defects}\n"
        "写完后可手动推送：/publish {command}（/preview {command} 预演谁会收到什么），"
        "或 briefbot {cli} [--dry-run]。",
        "Held {title} [{date}]: it looks unfinished.\n{defects}\n"
        "Publish it by hand when ready: /publish {command} (/preview {command} shows who "
        "would get what), or briefbot {cli} [--dry-run].",
    ),
    "alert_repaired": (
        "已推送 {date} 这一期，其中有解析器修复过的问题（读者可能会注意到，请在文件里改正）：\n"
        "{defects}",
        "Published issue {date} with defects the parser repaired "
        "(readers may notice them; fix them in the file):\n{defects}",
    ),
}

# Parser warnings (briefings.errors.WARNINGS) for admins: code -> Chinese; the English is
# the parser's own message, so an English alert reads as the log line does. The fields
# are as the message quotes them (`'论文'`).
WARNING_TEXTS_ZH: Final[dict[str, str]] = {
    "bad_bytes": "文件里有 U+FFFD 替换字符：字节损坏了？",
    "title_not_split": "无法把 {text} 拆成“标题 | 来源”，整体保留为标题",
    "link_recovered": "条目的链接格式有误，标题和网址已从文字中恢复",
    "unclosed_bracket": "条目里的“[”没有闭合",
    "unclosed_paren": "条目链接文字后的“(”没有闭合",
    "empty_link": "条目的链接目标是空的“()”",
    "text_after_links": "条目链接后多出的文字已放进摘要：{text}",
    "empty_extra_link": "{text} 的链接目标是空的",
    "empty_item": "空的列表项，已用占位标题保留",
    "bracket_without_link": "方括号里的条目文字没有链接目标",
    "not_web_url": "条目的链接目标 {url} 不是 http(s) 网址",
    "no_title": "条目没有标题",
    "unknown_section": "栏目 {heading} 不在分类表里，键为 {section_key}",
    "empty_section": "栏目 {heading} 没有条目",
}
TEXTS.update({f"warning_{code}": (zh, WARNINGS[code]) for code, zh in WARNING_TEXTS_ZH.items()})


class CommandText(NamedTuple):
    """A command's texts in one language: for menus and /help."""

    description: str  # 1-256 characters (Telegram's menu)
    args: str = ""  # argument syntax, "" for none
    example: str = ""  # example arguments, "" for none


# Every command of the table (bot/commands/table.py) has its texts here, under its name:
# name -> (zh, en). A test checks both languages are present and within menu limits.
COMMAND_TEXTS: Final[dict[str, tuple[CommandText, CommandText]]] = {
    "start": (
        CommandText("订阅并查看介绍", "[栏目]", "papers"),
        CommandText("Subscribe and get started", "[section]", "papers"),
    ),
    "help": (
        CommandText("命令列表与示例"),
        CommandText("Commands with examples"),
    ),
    "latest": (
        CommandText("最新一期（可指定栏目或标签）", "[栏目|标签]", "论文"),
        CommandText("The newest issue (or one section/topic)", "[section|topic]", "papers"),
    ),
    "issue": (
        CommandText("查看某一期", "YYYY-MM-DD [栏目]", "2026-11-02"),
        CommandText("Show the issue of a date", "YYYY-MM-DD [section]", "2026-11-02"),
    ),
    "issues": (
        CommandText("往期列表"),
        CommandText("Recent issues"),
    ),
    "search": (
        CommandText("搜索往期内容", "关键词…", "量化 芯片"),
        CommandText("Search the archive", "words…", "quantization"),
    ),
    "sections": (
        CommandText("查看并切换订阅的栏目与标签"),
        CommandText("Show and toggle subscribed sections/topics"),
    ),
    "subscribe": (
        CommandText("订阅栏目或标签", "栏目|标签…", "论文 芯片"),
        CommandText("Subscribe to sections or topics", "section|topic…", "papers chips"),
    ),
    "unsubscribe": (
        CommandText("退订栏目或标签", "栏目|标签…", "论文"),
        CommandText("Unsubscribe from sections or topics", "section|topic…", "papers"),
    ),
    "settings": (
        CommandText(
            "推送格式、语言、暂停", "[format full|digest] [lang zh|en] [pause|resume]", "lang en"
        ),
        CommandText(
            "Push format, language, pause",
            "[format full|digest] [lang zh|en] [pause|resume]",
            "lang zh",
        ),
    ),
    "stop": (
        CommandText("停止推送并删除本聊天的数据"),
        CommandText("Stop pushes and delete this chat's data"),
    ),
    "stats": (
        CommandText("订阅与推送统计"),
        CommandText("Subscriber and push statistics"),
    ),
    "preview": (
        CommandText(
            "预演推送某一期，或预演已推送一期的更正（都不发送）",
            "YYYY-MM-DD|latest|更正 [YYYY-MM-DD]",
            "更正",
        ),
        CommandText(
            "Dry-run the push of an issue, or the correction of a published one",
            "YYYY-MM-DD|latest|correction [YYYY-MM-DD]",
            "correction",
        ),
    ),
    "publish": (
        CommandText("推送某一期", "YYYY-MM-DD|latest", "2026-11-16"),
        CommandText("Publish an issue", "YYYY-MM-DD|latest", "2026-11-16"),
    ),
    "corrections": (
        CommandText(
            "查看、开启或关闭更正（已推送一期被修改时更正读者收到的消息）", "[开|关]", "关"
        ),
        CommandText(
            "Show, or switch on or off, corrections of published issues", "[on|off]", "off"
        ),
    ),
}


# Commands that exist only with several series configured (bot/commands/series.py).
SERIES_COMMAND_TEXTS: Final[dict[str, tuple[CommandText, CommandText]]] = {
    "series": (
        # {series}: a configured series other than the first (bot/commands/meta.py)
        CommandText("查看各个系列，订阅或退订", "[系列]", "{series}"),
        CommandText("List the series, subscribe or unsubscribe", "[series]", "{series}"),
    ),
}


def command_text(lang: str, command: str) -> CommandText:
    zh, en = COMMAND_TEXTS[command] if command in COMMAND_TEXTS else SERIES_COMMAND_TEXTS[command]
    return en if lang == "en" else zh


def usage(lang: str, command: str) -> tuple[str, str]:
    """(argument syntax, example arguments) of a command in `lang`."""
    text = command_text(lang, command)
    return text.args, text.example


def normalize_language(value: str | None) -> str | None:
    """`zh-hans` -> zh, `en-US` -> en, anything else (or nothing) -> None."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def pick_language(stored: str | None, language_code: str | None, chosen: bool = False) -> str:
    """A language chosen in /settings, else the client's (zh* -> zh, other -> en), else the
    stored one (what the chat last used), else zh."""
    if chosen and stored in LANGUAGES:
        return stored
    if language_code and language_code.strip():
        return "zh" if language_code.strip().lower().startswith("zh") else "en"
    return stored if stored in LANGUAGES else DEFAULT_LANGUAGE


def t(lang: str, key: str, **fields: object) -> str:
    """The text `key` in `lang`; with `count=1`, its `key_one` variant when there is one
    (English says "1 entry", "3 entries")."""
    if fields.get("count") == 1 and f"{key}_one" in TEXTS:
        key = f"{key}_one"
    zh, en = TEXTS[key]
    text = en if lang == "en" else zh
    return text.format(**fields) if fields else text


def parser_warning(lang: str, message: str) -> str:
    """A parser warning's message said in `lang`; one no code writes, as it is."""
    code, fields = read_warning(message)
    key = f"warning_{code}"
    return t(lang, key, **fields) if key in TEXTS else message


def describe(lang: str, command: str) -> str:
    return command_text(lang, command).description


def join_names(lang: str, names: list[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(names)


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis marks a cut).

    For anything a user sent that a reply or a log line repeats: a 100 KB name must not
    come back as a 100 KB message.
    """
    text = text.lstrip()
    head = " ".join(text[: limit * 4].split())  # never scan more than a bounded prefix
    if len(head) <= limit and len(text) <= limit * 4:
        return head
    return head[: limit - 1].rstrip() + "…"


def echo_names(
    lang: str,
    names: Sequence[str],
    *,
    quote: str = "“{}”",
    items: int = ECHO_ITEMS,
    chars: int = ECHO_CHARS,
) -> str:
    """The user's words listed back: at most `items`, each clipped, then "and N more"."""
    shown = [quote.format(clip(n, chars)) for n in names[:items]]
    text = join_names(lang, shown)
    rest = len(names) - len(shown)
    return f"{text} {t(lang, 'and_more', count=rest)}" if rest > 0 else text
