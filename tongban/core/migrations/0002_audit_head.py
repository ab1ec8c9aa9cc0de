"""Creates the audit chain's head row, so the first append has a row to lock (no create race)."""

from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
