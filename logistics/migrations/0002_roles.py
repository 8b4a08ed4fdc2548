"""Give the role groups the logistics permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("logistics", "0001_logistics")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
