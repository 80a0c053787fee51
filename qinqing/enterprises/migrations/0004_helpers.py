"""Move an enterprise's current helpers out of the registry row into a narrow table (see models.Helpers).

Rows are created only for enterprises that have a helper; the copy is one INSERT … SELECT.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("enterprises", "0003_load_reference_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Helpers",
            fields=[
                ("enterprise", models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE,
                                                    primary_key=True, related_name="helpers", serialize=False,
                                                    to="enterprises.enterprise", verbose_name="企业")),
                ("service_specialist", models.ForeignKey(blank=True, db_constraint=False, null=True,
                                                         on_delete=django.db.models.deletion.SET_NULL,
                                                         related_name="specialist_for", to=settings.AUTH_USER_MODEL,
                                                         verbose_name="为企服务专员")),
                ("contact_leader", models.ForeignKey(blank=True, db_constraint=False, null=True,
                                                     on_delete=django.db.models.deletion.SET_NULL,
                                                     related_name="leader_for", to=settings.AUTH_USER_MODEL,
                                                     verbose_name="包联领导")),
            ],
            options={"verbose_name": "企业现任包联人员", "verbose_name_plural": "企业现任包联人员"},
        ),
        migrations.RunSQL(
            """INSERT INTO enterprises_helpers (enterprise_id, service_specialist_id, contact_leader_id)
               SELECT id, service_specialist_id, contact_leader_id FROM enterprises_enterprise
               WHERE service_specialist_id IS NOT NULL OR contact_leader_id IS NOT NULL""",
            """UPDATE enterprises_enterprise SET
                   service_specialist_id = (SELECT h.service_specialist_id FROM enterprises_helpers h
                                            WHERE h.enterprise_id = enterprises_enterprise.id),
                   contact_leader_id = (SELECT h.contact_leader_id FROM enterprises_helpers h
                                        WHERE h.enterprise_id = enterprises_enterprise.id)""",
        ),
        migrations.RemoveField(model_name="enterprise", name="service_specialist"),
        migrations.RemoveField(model_name="enterprise", name="contact_leader"),
    ]
