"""Give the purchasing role the restock-policy permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("purchasing", "0003_restock_policy")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
