"""Give the role groups the return permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_returns")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
