"""Slugs of several series against the words readers type for something else.

bot.config refuses the slugs that read as an issue key or a web path; the words the
commands and the taxonomies define are checked here, by the entry point before the
runtime opens: bot.config and bot.runtime sit below the commands (bot.sources, which
imports them, must not reach the publication the command table imports).
"""

from __future__ import annotations

from bot.config import ConfigError, Settings, slug_taken
from bot.runtime import build_taxonomy
from briefings.taxonomy import Taxonomy


def check_series_words(settings: Settings) -> None:
    """ConfigError (one line, naming series.N.slug) when a slug of several series is a word
    readers type for something else: a command or its alias, "all", or a section or topic
    name of any series (the built-in ones included). Commands take a first word naming a
    series for the series, so that other meaning would be lost (`/subscribe papers`)."""
    if not isinstance(settings.series, list):
        return
    words = reader_words()
    taxonomies = [Taxonomy.default(), *(build_taxonomy(v) for v in settings.series_views())]
    for index, one in enumerate(settings.series):
        if one.slug in words:
            raise ConfigError(slug_taken(index, one.slug, words[one.slug]))
        for taxonomy in taxonomies:
            hit = taxonomy.resolve(one.slug)
            if hit is not None:
                kind, key = hit
                raise ConfigError(slug_taken(index, one.slug, f"a {kind} name ({key})"))


def reader_words() -> dict[str, str]:
    """Each word that starts a command or means everything -> what it means to readers."""
    # Here, not at the top: with one series the entry point never loads the commands.
    from bot.commands.subscription_names import ALL_NAMES
    from bot.commands.table import COMMAND_TABLE, SERIES_COMMANDS

    table = COMMAND_TABLE.for_series(SERIES_COMMANDS)
    words = dict.fromkeys(ALL_NAMES, "the word for everything")
    words |= {name: f"the command /{name}" for name in table.by_name}
    for word, alias in (*table.slash_aliases.items(), *table.text_aliases.items()):
        words[word] = f"a word for the command /{alias.name}"
    return words
