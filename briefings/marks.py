"""How a search snippet marks the words that matched a query.

Storage writes the marks and formatters render them; both depend on briefings, so the
two characters are defined here once. They are control characters no briefing contains
(storage strips them from the text before marking).
"""

MARK_START = "\x02"
MARK_END = "\x03"


def unmarked(text: str) -> str:
    """`text` without the mark characters."""
    return text.replace(MARK_START, "").replace(MARK_END, "")
