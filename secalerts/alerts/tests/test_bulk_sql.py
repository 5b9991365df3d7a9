from secalerts.alerts import bulk_sql
from secalerts.alerts.models import Alert


def test_new_alerts_are_written_with_every_column_of_the_model():
    """A field added to Alert must be added to the ingest path's insert too."""
    columns = {field.column for field in Alert._meta.concrete_fields}

    assert {"id", *bulk_sql._NEW_ALERT_COLUMNS} == columns
