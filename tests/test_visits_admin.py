"""The visits admin saves cadres and contact cadences through the services, and shows their refusals."""

import datetime as dt

from qinqing.visits import services as duties
from qinqing.visits.models import Assignment, CadenceRule, Cadre, Duty, DutyEvent, Level
from tests.conftest import login

CADRES = "/admin/visits/cadre/"
CADENCE = "/admin/visits/cadencerule/"


def _cadre_form(cadre, **changes) -> dict:
    data = {"level": cadre.level, "jurisdiction": cadre.jurisdiction_id, "unit": cadre.unit_id or "",
            "capacity": cadre.capacity, "sectors": "[]", "active": "on"}
    return {**data, **changes}


def test_a_cadre_changed_in_the_admin_leaves_the_services_audit_line(world):
    cadre = duties.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                  jurisdiction=world.district)
    response = login(world.admin).post(f"{CADRES}{cadre.pk}/change/", _cadre_form(cadre, capacity=80))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Cadre.objects.get(pk=cadre.pk).capacity == 80
    latest = DutyEvent.objects.filter(verb=DutyEvent.Verb.REGISTER_CADRE).latest("id")
    assert (latest.actor, latest.data["capacity"]) == (world.admin, 80)


def test_a_cadre_the_service_refuses_is_explained_on_the_form_and_nothing_changes(world):
    cadre = duties.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                  jurisdiction=world.district)
    response = login(world.admin).post(f"{CADRES}{cadre.pk}/change/", _cadre_form(cadre, capacity=0))
    assert response.status_code == 200
    assert "包联上限应在1至10000家之间。" in response.content.decode()
    assert Cadre.objects.get(pk=cadre.pk).capacity == 30


def test_a_cadence_changed_in_the_admin_moves_the_current_deadlines(world):
    cadre = duties.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                  jurisdiction=world.district)
    assignment = duties.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                       on=dt.date(2026, 11, 2))
    before = Assignment.objects.get(pk=assignment.pk).next_contact_due
    rule = CadenceRule.objects.get(level=Level.SPECIALIST)
    client = login(world.admin)
    response = client.post(f"{CADENCE}{rule.pk}/change/", {"contact_days": 7, "visit_days": 60})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert DutyEvent.objects.filter(verb=DutyEvent.Verb.SET_CADENCE, actor=world.admin).exists()
    assert Assignment.objects.get(pk=assignment.pk).next_contact_due == before - dt.timedelta(days=30 - 7)

    refused = client.post(f"{CADENCE}{rule.pk}/change/", {"contact_days": 30, "visit_days": 10})
    assert "实地走访周期不能短于联系周期" in refused.content.decode()
    assert CadenceRule.objects.get(pk=rule.pk).visit_days == 60


def test_a_cadence_rule_cannot_be_deleted_in_the_admin(world):
    rule = CadenceRule.objects.get(level=Level.SPECIALIST)
    client = login(world.admin)
    assert client.post(f"{CADENCE}{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(CADENCE, {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"})
    assert CadenceRule.objects.filter(pk=rule.pk).exists()
