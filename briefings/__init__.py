"""Pure domain model of a periodic briefing and its parser (no I/O)."""
