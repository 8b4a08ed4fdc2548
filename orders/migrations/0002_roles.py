"""Give the role groups the store permissions (see erp/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync_roles(apps, schema_editor):
    # As erp/migrations/0003_roles.py: permissions are normally created after all migrations.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    from erp.roles import roles_sync

    roles_sync(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_store"),
        ("erp", "0004_user_stores"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
