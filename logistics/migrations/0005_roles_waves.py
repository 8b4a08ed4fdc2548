"""Give the role groups the pick wave and pack station permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [("logistics", "0004_pick_waves")]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
