"""The shipped logsource table (secalerts/sigma/logsources.py) as rows users can edit."""

from django.db import migrations

from secalerts.sigma.logsources import default_mappings


def seed(apps, schema_editor):
    mapping = apps.get_model("sigma", "LogsourceMapping")
    mapping.objects.bulk_create(mapping(**row) for row in default_mappings())


def unseed(apps, schema_editor):
    apps.get_model("sigma", "LogsourceMapping").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sigma", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
