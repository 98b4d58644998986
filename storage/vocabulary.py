"""The values a subscriber row may hold, with no imports: command-line parsers and help
texts use them without loading SQLAlchemy (`storage.subscribers` checks rows against them)."""

PLATFORMS = ("telegram", "wechat", "wecom", "console")
CHAT_KINDS = ("private", "group", "channel", "user")
LANGUAGES = ("zh", "en")
FORMATS = ("full", "digest")
