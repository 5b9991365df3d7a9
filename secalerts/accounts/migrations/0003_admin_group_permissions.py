"""The Admin group gets the model permissions the Django admin asks for: without them only
a superuser saw anything there. Users and groups are view-only (changing a user there could
make anyone a superuser); alerts, history and events are read-only in the admin anyway."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    ("rules", "rule"): ("view", "add", "change", "delete"),
    ("alerts", "alert"): ("view",),
    ("alerts", "alerthistory"): ("view",),
    ("events", "event"): ("view",),
    ("accounts", "apikey"): ("view", "change"),  # change: the revoke action
    ("auth", "user"): ("view",),
    ("auth", "group"): ("view",),
}


def grant(apps, schema_editor):
    # Permissions are normally made after the last migration (post_migrate); a fresh
    # database has none yet, so make them here.
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Admin")
    for (app_label, model), actions in GRANTS.items():
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in actions],
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Admin").first()
    if group is None:
        return
    for (app_label, model), actions in GRANTS.items():
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in actions],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_keys"),
        ("alerts", "0003_alert_event_links_without_db_constraints"),
        ("events", "0003_event_received_by"),
        ("rules", "0005_hit_pack_alert"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
