"""An index that serves the relevance order: published activities of a campaign by word count.

The expression is ``kepuyue.search.services.WordGaps`` written out (with the literal ``' '``), so
``ORDER BY search_rank, starts_at, id`` reads this index in order on both databases and a search
sorted by relevance stops after one page instead of ranking every match.

On a SQLite database that has statistics (``ANALYZE`` was run), the new index gets its own at
once: without them SQLite guesses it is very selective and prefers it to ``act_list_idx`` for
plain lists, which then need a sort.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS act_search_density_idx ON activities_activity "
    "(campaign_id, status, (LENGTH(search_text) - LENGTH(REPLACE(search_text, ' ', ''))), starts_at, id)"
)
DROP = "DROP INDEX IF EXISTS act_search_density_idx"


def forward(apps, schema_editor):
    schema_editor.execute(CREATE)
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("ANALYZE act_search_density_idx")


def backward(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
