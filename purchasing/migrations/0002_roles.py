"""Give the role groups the purchasing permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("purchasing", "0001_purchasing")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
