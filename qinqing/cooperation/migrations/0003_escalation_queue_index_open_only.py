"""The escalation queues' index holds only the open escalated demands (the queue's rows), not every demand ever
escalated: with closed ones in it, PostgreSQL at 1M demands combined it with the state index (a BitmapAnd over
86,000 open demands) instead of reading the few open escalated ones in received_at order and stopping after a
page. The state list is the queue's (qinqing.cooperation.services.INSTRUCTION_STATES: the open states and
区级研究推进)."""

from django.db import migrations

INDEX = "coop_demand_escalated"
STATES = ("received", "dispatched", "returned", "accepted", "contacted", "planned", "reopened", "long_term")
CREATE = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON demands_demand (tier, received_at, id) "
          f"WHERE tier >= 2 AND tier <= 3 AND state IN ({', '.join(repr(s) for s in STATES)})")
OLD = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON demands_demand (tier, received_at, id) "
       "WHERE tier >= 2 AND tier <= 3")


class Migration(migrations.Migration):
    dependencies = [("cooperation", "0002_escalation_queue_index")]

    operations = [
        migrations.RunSQL(f"DROP INDEX IF EXISTS {INDEX}", OLD),
        migrations.RunSQL(CREATE, f"DROP INDEX IF EXISTS {INDEX}"),
    ]
