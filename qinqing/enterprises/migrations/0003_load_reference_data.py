"""Load GB/T 4754-2017, GB/T 2260, the 2017 size thresholds, the 四上 rules and default tags as data.

The files are in qinqing/enterprises/data/ (see SOURCE.txt). PostgreSQL-only indexes follow: GIN on tags
(the tag filter `tags @> '["专精特新"]'`), `name COLLATE "C"` (name-prefix search as a range) and, when
pg_trgm can be created, a trigram index for name-contains search.
"""

from django.db import DatabaseError, migrations, transaction


def load(apps, schema_editor):
    from qinqing.enterprises.reference import load_all

    names = ["IndustryCode", "Division", "SizeRule", "FourAboveRule", "Tag"]
    load_all({name: apps.get_model("enterprises", name) for name in names})


def postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS enterprise_tags_gin ON enterprises_enterprise USING gin (tags)")
        # Name-prefix search takes a byte-order range on this (see qinqing.enterprises.filters.name_prefix).
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS enterprise_name_c ON enterprises_enterprise ((name COLLATE "C"), id)')
        # "名称包含" search: a trigram index answers LIKE '%精密机械%' from the index (0.4–5 ms instead of a
        # 150 ms scan at a million rows). pg_trgm ships with PostgreSQL but creating it may need rights the
        # deployment's role lacks: then the search simply scans, as on SQLite.
        try:
            with transaction.atomic():
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS enterprise_name_trgm ON enterprises_enterprise USING gin (name gin_trgm_ops)")


def drop_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS enterprise_tags_gin")
        schema_editor.execute("DROP INDEX IF EXISTS enterprise_name_c")
        schema_editor.execute("DROP INDEX IF EXISTS enterprise_name_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ("enterprises", "0002_registry"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(postgres_indexes, drop_postgres_indexes),
    ]
