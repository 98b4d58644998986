"""SQL archive of briefing issues, subscribers and deliveries (SQLite or PostgreSQL)."""
