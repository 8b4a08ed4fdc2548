"""Leaner indexes on warehouse_sku: code unique as a constraint (no extra LIKE index on
PostgreSQL) and barcode served by its partial unique index alone.

Dropping barcode's db_index also drops every other single-column index on barcode on
PostgreSQL, the partial unique one included, so that constraint is removed first and made
again afterwards.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="sku", name="sku_barcode_unique"),
        migrations.AlterField(
            model_name="sku",
            name="barcode",
            field=models.CharField(blank=True, max_length=64, verbose_name="barcode"),
        ),
        migrations.AddConstraint(
            model_name="sku",
            constraint=models.UniqueConstraint(
                condition=models.Q(("barcode", ""), _negated=True),
                fields=("barcode",),
                name="sku_barcode_unique",
            ),
        ),
        migrations.AlterField(
            model_name="sku",
            name="code",
            field=models.CharField(max_length=64, verbose_name="SKU code"),
        ),
        migrations.AddConstraint(
            model_name="sku",
            constraint=models.UniqueConstraint(fields=("code",), name="sku_code_unique"),
        ),
    ]
