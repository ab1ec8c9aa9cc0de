"""A pg_trgm GIN index on ServiceItem.search_text, so that catalogue search (LIKE '%q%') is served by
an index on PostgreSQL. Other databases (SQLite) get nothing: they scan, which is fine at their size.

The index is not part of the model state (it is vendor-specific), so ``makemigrations`` never sees
it; this migration owns it.
"""

from django.db import migrations

INDEX = "catalogue_item_search_text_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalogue_serviceitem USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects may use it.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
