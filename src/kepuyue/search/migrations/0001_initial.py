"""The activity search index: FTS5 + sync triggers on SQLite, a GIN expression index on PostgreSQL.

Each backend skips the other's operation. The SQL is written out here (not imported) so this
migration stays what it was; ``kepuyue.search.schema`` holds the same statements for the
post-migrate repair, and a test checks the two agree.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_activity_fts USING fts5("
    "search_text, content='activities_activity', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS search_activity_ai AFTER INSERT ON activities_activity BEGIN "
    "INSERT INTO search_activity_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS search_activity_ad AFTER DELETE ON activities_activity BEGIN "
    "INSERT INTO search_activity_fts(search_activity_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS search_activity_au AFTER UPDATE OF id, search_text ON activities_activity "
    "WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO search_activity_fts(search_activity_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO search_activity_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    # Index the rows that already exist.
    "INSERT INTO search_activity_fts(search_activity_fts) VALUES ('rebuild')",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_activity_au",
    "DROP TRIGGER IF EXISTS search_activity_ad",
    "DROP TRIGGER IF EXISTS search_activity_ai",
    "DROP TABLE IF EXISTS search_activity_fts",
]


def _gin_index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(SearchVector("search_text", config="simple"), name="act_search_gin")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.add_index(apps.get_model("activities", "Activity"), _gin_index())


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("activities", "Activity"), _gin_index())


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("activities", "0002_importjob"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
