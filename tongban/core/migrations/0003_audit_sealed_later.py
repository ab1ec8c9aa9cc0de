# Audit entries are inserted without a chain position and sealed moments later (ADR 0003).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_audit_head'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['id'], 'verbose_name': '审计记录', 'verbose_name_plural': '审计记录'},
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='entry_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='本条哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='前一条哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True, verbose_name='序号'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='core_audit_unsealed_idx'),
        ),
    ]
