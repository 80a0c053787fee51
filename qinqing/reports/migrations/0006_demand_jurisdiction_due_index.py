"""An index on the demand table for the statistics: a scope's open demands by their deadline.

The monthly circular lists a district's overdue demands nearest deadline first, and the supervision
board counts them; without it PostgreSQL walks every overdue demand of the province to find a district's.
Partial (only demands whose clock runs: finished ones carry the far-future due_order), so it stays small
and costs nothing when a demand closes. Plain SQL, valid on PostgreSQL and SQLite, so that the demand
models keep their own index list.
"""

from django.db import migrations

CREATE = ("CREATE INDEX IF NOT EXISTS reports_demand_jur_due ON demands_demand (jurisdiction_id, due_order) "
          "WHERE due_order < '9999-12-31'")
DROP = "DROP INDEX IF EXISTS reports_demand_jur_due"


class Migration(migrations.Migration):

    dependencies = [
        ('demands', '0003_search_index'),
        ('reports', '0005_rollup_fewer_indexes'),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
