"""Drop single-column indexes that a composite index already leads with, and the LIKE index on the
sweep id (only ever compared for equality). Each index is one more write on every intake and on
every urging the sweep issues.

The database side is plain DROP INDEX: letting AlterField do it would rebuild the demand table on
SQLite (dropping the keyword-search triggers with it) only to lose an index.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = [
    "demands_demand_category_id_605cc409",      # demand_cat_received (category_id, received_at)
    "demands_demand_enterprise_id_a024c659",    # demand_ent_received (enterprise_id, received_at)
    "demands_demand_jurisdiction_id_941fdd84",  # demand_jur_received (jurisdiction_id, received_at)
    "demands_demand_lead_unit_id_18be7c90",     # demand_unit_state (lead_unit_id, state)
    "demands_demandevent_demand_id_b11ad6ad",   # event_demand_time (demand_id, created_at)
    "demands_urging_demand_id_49ffaed5",        # one_urging_per_stage_due (demand_id, stage, due)
    "demands_urging_sweep_2fc0ed15",            # replaced by urging_sweep
    "demands_urging_sweep_2fc0ed15_like",       # PostgreSQL only
]
RESTORED = {
    "demands_demand_category_id_605cc409": ("demands_demand", "category_id"),
    "demands_demand_enterprise_id_a024c659": ("demands_demand", "enterprise_id"),
    "demands_demand_jurisdiction_id_941fdd84": ("demands_demand", "jurisdiction_id"),
    "demands_demand_lead_unit_id_18be7c90": ("demands_demand", "lead_unit_id"),
    "demands_demandevent_demand_id_b11ad6ad": ("demands_demandevent", "demand_id"),
    "demands_urging_demand_id_49ffaed5": ("demands_urging", "demand_id"),
    "demands_urging_sweep_2fc0ed15": ("demands_urging", "sweep"),
}


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_initial'),
        ('demands', '0003_search_index'),
        ('enterprises', '0003_load_reference_data'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
                    [f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
                     for name, (table, column) in RESTORED.items()],
                ),
            ],
            state_operations=[
            migrations.AlterField(
                model_name='demand',
                name='category',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='demands', to='demands.category', verbose_name='类别'),
            ),
            migrations.AlterField(
                model_name='demand',
                name='enterprise',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='demands', to='enterprises.enterprise', verbose_name='企业'),
            ),
            migrations.AlterField(
                model_name='demand',
                name='jurisdiction',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='demands', to='accounts.jurisdiction', verbose_name='属地'),
            ),
            migrations.AlterField(
                model_name='demand',
                name='lead_unit',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='led_demands', to='accounts.unit', verbose_name='主办单位'),
            ),
            migrations.AlterField(
                model_name='demandevent',
                name='demand',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='demands.demand', verbose_name='诉求'),
            ),
            migrations.AlterField(
                model_name='urging',
                name='demand',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='urgings', to='demands.demand', verbose_name='诉求'),
            ),
            migrations.AlterField(
                model_name='urging',
                name='sweep',
                field=models.CharField(editable=False, max_length=32),
            ),
            ],
        ),
        migrations.AddIndex(
            model_name='urging',
            index=models.Index(fields=['sweep'], name='urging_sweep'),
        ),
    ]
