"""The escalation queues' index on the demands table: demands escalated to 联席办 (tier 2) or 区领导 (tier 3), by
age. Partial, so it holds only the few escalated demands and costs ordinary intakes nothing (a tier-1 row is
not in it); the queue (cooperation.services.escalation_queue) reads it in received_at order and stops after a
page. Created here rather than in the demands app so that app's models stay as they are; on both SQLite
and PostgreSQL."""

from django.db import migrations

INDEX = "coop_demand_escalated"


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0001_initial"),
        ("demands", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON demands_demand (tier, received_at, id) "
            "WHERE tier >= 2 AND tier <= 3",
            f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
