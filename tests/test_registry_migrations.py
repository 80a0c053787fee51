"""Upgrading a running registry: what the migrations carry over must arrive whole."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from qinqing.enterprises.models import Enterprise
from tests.conftest import real_codes

BEFORE = [("enterprises", "0003_load_reference_data")]
AFTER = [("enterprises", "0004_helpers")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # puts the reference data back after
def test_the_upgrade_keeps_every_enterprises_specialist_and_contact_leader():
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

    _migrate(AFTER)

    helpers = {e.name: (e.service_specialist_id, e.contact_leader_id)
               for e in Enterprise.objects.select_related("helpers")}
    assert helpers == {"甲": (specialist.pk, leader.pk), "乙": (specialist.pk, None), "丙": (None, None)}

    # and back: a rollback of the release puts them where the old code reads them
    old = _migrate(BEFORE)
    back = old.get_model("enterprises", "Enterprise").objects.get(name="甲")
    assert (back.service_specialist_id, back.contact_leader_id) == (specialist.pk, leader.pk)
    _migrate(AFTER)
