import django.db.models.deletion
from django.db import migrations, models

# On SQLite, altering a column rebuilds the table (new table, copy, drop, rename), and the triggers of
# the dropped table go with it: the material triggers of 0005 (catalogue generation) are made again.
MATERIAL_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS catalogue_material_generation_{event.lower()} AFTER {event} "
    "ON catalogue_material BEGIN UPDATE catalogue_generation SET value = abs(random()) WHERE id = 1; END"
    for event in ("INSERT", "UPDATE", "DELETE")
]


def _material_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in MATERIAL_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_catalogue_generation"),
    ]

    operations = [
        # Undone last when going back: the reverse alteration rebuilds the table as well.
        migrations.RunPython(migrations.RunPython.noop, _material_triggers_again),
        migrations.AlterField(
            model_name="material",
            name="item",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="materials",
                to="catalogue.serviceitem",
            ),
        ),
        migrations.RunPython(_material_triggers_again, migrations.RunPython.noop),
    ]
