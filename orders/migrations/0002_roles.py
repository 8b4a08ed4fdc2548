"""Give the role groups the store permissions (see erp/roles.py)."""

from django.db import migrations

from erp.roles import migrate_roles


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_store"),
        ("erp", "0004_user_stores"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(migrate_roles, migrations.RunPython.noop)]
