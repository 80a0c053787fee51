"""The keyword index: a GIN index on PostgreSQL, an FTS5 table on SQLite (see demands/search.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from qinqing.demands.search import ensure_search_index

    ensure_search_index(schema_editor.connection)


def drop(apps, schema_editor):
    from qinqing.demands.search import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("demands", "0002_seed_taxonomy")]
    operations = [migrations.RunPython(create, drop)]
