"""Give the role groups the stocktake and transfer permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0003_stocktake_transfer")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
