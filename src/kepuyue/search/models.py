"""The search app has no models: the index lives beside ``activities_activity`` (an FTS5 table on
SQLite, a GIN expression index on PostgreSQL; see ``kepuyue.search.schema``). This module exists so
that Django sends the app its ``post_migrate`` signal, which repairs the SQLite triggers."""
