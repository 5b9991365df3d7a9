import uuid

from django.db import migrations

DEFAULT_RULES = [
    {
        "name": "High-severity event",
        "description": "Any event reported with severity high or critical.",
        "severity": "inherit",
        "condition": {"field": "severity", "op": "in", "value": ["high", "critical"]},
        "group_by": ["source", "event_type"],
        "threshold": None,
    },
    {
        "name": "Brute-force login",
        "description": "5 authentication failures from one source IP within 60 seconds.",
        "severity": "high",
        "condition": {"field": "event_type", "op": "eq", "value": "auth.failure"},
        "group_by": ["source_ip"],
        "threshold": {"count": 5, "window_seconds": 60},
    },
    {
        "name": "Malware detected",
        "description": "A sensor reported malware.",
        "severity": "critical",
        "condition": {"field": "event_type", "op": "eq", "value": "malware.detected"},
        "group_by": ["source"],
        "threshold": None,
    },
]


def create_default_rules(apps, schema_editor):
    Rule = apps.get_model("rules", "Rule")
    for fields in DEFAULT_RULES:
        Rule.objects.get_or_create(name=fields["name"], defaults=fields)
    RuleSetVersion = apps.get_model("rules", "RuleSetVersion")
    RuleSetVersion.objects.update_or_create(pk=1, defaults={"stamp": uuid.uuid4().hex})


def delete_default_rules(apps, schema_editor):
    names = [fields["name"] for fields in DEFAULT_RULES]
    apps.get_model("rules", "Rule").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("rules", "0001_initial")]

    operations = [migrations.RunPython(create_default_rules, delete_default_rules)]
