"""Upgrading a running registry: what the migrations carry over must arrive whole."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from qinqing.demands.search import ensure_search_index
from tests.conftest import real_codes

BEFORE = [("enterprises", "0003_load_reference_data")]
AFTER = [("enterprises", "0004_helpers")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _latest():
    """Every app at its newest migration again: the tests after this one need today's schema."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # The executor sends no post_migrate: SQLite rebuilt the demand table on the way back up (demands 0013 adds
    # columns), which dropped the search triggers that `migrate` would have put back.
    ensure_search_index()


@pytest.fixture
def back_to_latest():
    yield
    _latest()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # puts the reference data back after
def test_the_upgrade_keeps_every_enterprises_specialist_and_contact_leader(back_to_latest):
    old = _migrate(BEFORE)
    User, Jurisdiction = old.get_model("accounts", "User"), old.get_model("accounts", "Jurisdiction")
    OldEnterprise = old.get_model("enterprises", "Enterprise")
    town = Jurisdiction.objects.create(name="南头街道", code="440305003", path="/440305003/")
    specialist = User.objects.create(username="zy", full_name="冯专员")
    leader = User.objects.create(username="qz", full_name="王区长")
    codes = real_codes()
    OldEnterprise.objects.create(name="甲", credit_code=codes[0], sector="industry",
                                 jurisdiction=town, service_specialist=specialist, contact_leader=leader)
    OldEnterprise.objects.create(name="乙", credit_code=codes[1], sector="industry",
                                 jurisdiction=town, service_specialist=specialist)
    OldEnterprise.objects.create(name="丙", credit_code=codes[2], sector="industry",
                                 jurisdiction=town)

    new = _migrate(AFTER)

    # The models as 0004 left them: today's Enterprise has columns later migrations add.
    def pair(e):
        h = getattr(e, "helpers", None)  # an enterprise with no helpers may have no row
        return (h.service_specialist_id, h.contact_leader_id) if h else (None, None)

    helpers = {e.name: pair(e) for e in new.get_model("enterprises", "Enterprise").objects.select_related("helpers")}
    assert helpers == {"甲": (specialist.pk, leader.pk), "乙": (specialist.pk, None), "丙": (None, None)}

    # and back: a rollback of the release puts them where the old code reads them
    old = _migrate(BEFORE)
    back = old.get_model("enterprises", "Enterprise").objects.get(name="甲")
    assert (back.service_specialist_id, back.contact_leader_id) == (specialist.pk, leader.pk)
    _migrate(AFTER)
