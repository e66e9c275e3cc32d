"""Published activities written before the change feed existed, or by the importer's bulk writes
before they announced themselves to it (issue 16), get their first feed row."""

from django.db import migrations


def backfill(apps, schema_editor):
    from kepuyue.api.changes import backfill as run

    run(
        apps.get_model("activities", "Activity"),
        apps.get_model("api", "ActivityChange"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("activities", "0010_import_recovery"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
