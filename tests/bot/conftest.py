"""Bot tests run against real databases through the shared fixtures."""

from tests.dbfixtures import db_url, engine, postgres_database, session_factory

__all__ = ["db_url", "engine", "postgres_database", "session_factory"]
