"""Logsource mappings: which events, and which field names, a Sigma logsource means."""

from django.core.exceptions import ValidationError
from django.db import models


class LogsourceMapping(models.Model):
    """(product, category, service) -> targets; blank parts match a rule that omits them.

    `targets` is a list of {"event_types": [...], "event_type_prefixes": [...],
    "fields": {SigmaField: our_field}, "field_prefix": "data." or null,
    "keywords_field": "message"} (docs/sigma.md).
    """

    product = models.CharField(max_length=100, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="")
    service = models.CharField(max_length=100, blank=True, default="")
    targets = models.JSONField()
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ("product", "category", "service")
        constraints = (
            models.UniqueConstraint(
                fields=("product", "category", "service"), name="logsource_mapping_unique"
            ),
        )

    def __str__(self) -> str:
        return "/".join(part or "-" for part in (self.product, self.category, self.service))

    def clean(self) -> None:
        if not isinstance(self.targets, list) or not self.targets:
            raise ValidationError({"targets": ["must be a non-empty list of targets"]})
        for target in self.targets:
            if not isinstance(target, dict) or not (
                target.get("event_types") or target.get("event_type_prefixes")
            ):
                raise ValidationError(
                    {"targets": ["each target names event_types or event_type_prefixes"]}
                )
