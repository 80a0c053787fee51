"""Seed 002's cadence for every level: a phone call each month, a visit on site each quarter."""

from django.db import migrations

LEVELS = ["district_leader", "division_leader", "section_chief", "specialist"]


def forward(apps, schema_editor):
    CadenceRule = apps.get_model("visits", "CadenceRule")
    for level in LEVELS:
        CadenceRule.objects.get_or_create(level=level, defaults={"contact_days": 30, "visit_days": 90})


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
