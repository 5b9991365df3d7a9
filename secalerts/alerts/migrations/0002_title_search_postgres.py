"""Title search on PostgreSQL: a trigram index, and statistics on the searched expression.

`?search=` is `UPPER(title) LIKE UPPER('%term%')`. Without an index, a term that
few alerts match scans the whole table (about 1 s at 1,000,000 alerts); the GIN
trigram index finds them at once. The expression statistics let the planner tell
a rare term (use the trigram index) from a common one (walk the newest-first
index and stop after one page): without them it guessed 100 matches for every
term and sorted thousands of rows for common ones. SQLite has neither; its
tables are small enough to scan.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX alert_title_trgm ON alerts_alert USING gin (UPPER(title::text) gin_trgm_ops)",
    "CREATE STATISTICS alert_title_upper ON (UPPER(title::text)) FROM alerts_alert",
    "ALTER STATISTICS alert_title_upper SET STATISTICS 2000",
]
BACKWARD = [
    "DROP STATISTICS IF EXISTS alert_title_upper",
    "DROP INDEX IF EXISTS alert_title_trgm",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
