"""The search index's DDL on each backend, and the check that keeps it whole.

SQLite (embedded): an FTS5 external-content table over ``activities_activity.search_text``
(content is not copied: the index stores only the tokens) and three triggers that mirror every
INSERT, UPDATE and DELETE of that column — so ``bulk_create``, ``bulk_update``, queryset
``update()``/``delete()`` and raw SQL all stay in step without Python signals.

PostgreSQL (scale-out): a stored generated column ``search_tsv`` =
``to_tsvector('simple'::regconfig, COALESCE(search_text, ''))`` with a GIN index on it (migration
0003; 0001's expression index was dropped there), kept by PostgreSQL on every write.

Both tokenize the already-segmented, space-separated words of ``search_text`` one to one: FTS5's
``unicode61`` splits on anything but letters and digits (diacritics kept, as PostgreSQL keeps them)
and PostgreSQL's parser with the ``simple`` dictionary only lower-cases; the words are already
lower-case letters and digits (:func:`kepuyue.search.segment.words`).

Migration 0001 creates exactly these objects; a schema change to them needs a new migration.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "search_activity_fts"
GIN_INDEX = "act_search_tsv_gin"
TSV_COLUMN = "search_tsv"

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_activity_fts USING fts5("
    "search_text, content='activities_activity', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')"
)

# name -> CREATE TRIGGER statement. External content needs the OLD text to delete its tokens.
SQLITE_TRIGGERS = {
    "search_activity_ai": (
        "CREATE TRIGGER IF NOT EXISTS search_activity_ai AFTER INSERT ON activities_activity BEGIN "
        "INSERT INTO search_activity_fts(rowid, search_text) VALUES (new.id, new.search_text); "
        "END"
    ),
    "search_activity_ad": (
        "CREATE TRIGGER IF NOT EXISTS search_activity_ad AFTER DELETE ON activities_activity BEGIN "
        "INSERT INTO search_activity_fts(search_activity_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "END"
    ),
    # Only when the indexed text (or the id) really changes: a status change or a plain
    # ``save()`` that rewrites the same text does not touch the index.
    "search_activity_au": (
        "CREATE TRIGGER IF NOT EXISTS search_activity_au AFTER UPDATE OF id, search_text ON activities_activity "
        "WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text BEGIN "
        "INSERT INTO search_activity_fts(search_activity_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO search_activity_fts(rowid, search_text) VALUES (new.id, new.search_text); "
        "END"
    ),
}

SQLITE_REBUILD = "INSERT INTO search_activity_fts(search_activity_fts) VALUES ('rebuild')"

# Created by migration 0002 on both databases; listed here so a SQLite table rebuild cannot lose it.
SQLITE_INDEXES = {
    "act_search_density_idx": (
        "CREATE INDEX IF NOT EXISTS act_search_density_idx ON activities_activity "
        "(campaign_id, status, (LENGTH(search_text) - LENGTH(REPLACE(search_text, ' ', ''))), starts_at, id)"
    ),
}


def sqlite_missing_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """Names of the sync triggers absent from a SQLite database (all of them before migrating)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in SQLITE_TRIGGERS if name not in present]


def sqlite_has_index(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE])
        return cursor.fetchone() is not None


def sqlite_missing_indexes(connection: BaseDatabaseWrapper) -> list[str]:
    """Names of this app's B-tree indexes on ``activities_activity`` absent from a SQLite database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in SQLITE_INDEXES if name not in present]


def ensure_index(connection: BaseDatabaseWrapper) -> list[str]:
    """Restore the SQLite sync triggers and the density index if a migration dropped them;
    rebuild the full-text index when a trigger was missing. Returns the names it restored.

    Django's SQLite schema editor rebuilds a table for most ``ALTER`` operations (new table,
    copy, drop, rename), and dropping the old table drops its triggers and the indexes Django
    does not know about; this runs after every ``migrate`` (``post_migrate``) so a later change
    to ``Activity`` cannot silently stop the index from following. No-op on other backends and
    before migration 0001 has run.
    """
    if connection.vendor != "sqlite" or not sqlite_has_index(connection):
        return []
    triggers = sqlite_missing_triggers(connection)
    indexes = sqlite_missing_indexes(connection)
    with connection.cursor() as cursor:
        for name in triggers:
            cursor.execute(SQLITE_TRIGGERS[name])
        for name in indexes:
            cursor.execute(SQLITE_INDEXES[name])
            # Without statistics of its own SQLite would take the new index for a very selective
            # one and prefer it to act_list_idx (see migration 0002).
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute(f"ANALYZE {name}")
        if triggers:
            cursor.execute(SQLITE_REBUILD)
    return triggers + indexes
