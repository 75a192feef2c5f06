"""Persistence: SQLModel tables, engine and queries (keyword-only `session=`)."""
