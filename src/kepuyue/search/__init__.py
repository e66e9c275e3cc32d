"""Chinese full-text search: one service, two backends (SQLite FTS5 embedded, PostgreSQL in scale-out)."""
