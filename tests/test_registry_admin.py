"""The admin for the registry's reference data and configuration."""

import pytest

from qinqing.enterprises import services
from qinqing.enterprises.models import CreditCodeOverride, SizeRule
from tests.conftest import login


@pytest.mark.parametrize("model", ["industrycode", "division", "sizerule", "fouraboverule", "tag",
                                   "creditcodeoverride", "yearlyfigures", "enterpriseevent", "importjob"])
def test_an_administrator_can_open_each_registry_list(world, model):
    response = login(world.admin).get(f"/admin/enterprises/{model}/")
    assert response.status_code == 200


def test_accepting_a_pilot_code_in_the_admin_goes_through_the_service(world):
    client = login(world.admin)
    refused = client.post("/admin/enterprises/creditcodeoverride/add/",
                          {"code": "91350100M000100Y43", "reason": "营业执照核验"})
    assert "无需特批" in refused.content.decode()
    client.post("/admin/enterprises/creditcodeoverride/add/", {"code": "91350211m0000xuf46", "reason": "营业执照核验"})
    override = CreditCodeOverride.objects.get()
    assert (override.code, override.accepted_by) == ("91350211M0000XUF46", world.admin)


def test_editing_a_size_threshold_recomputes_the_enterprises(world, django_capture_on_commit_callbacks):
    enterprise = services.register_enterprise(world.admin, {
        "name": "深圳市南头新公司", "credit_code": "91350100M000100Y43", "industry_code": "C3311",
        "jurisdiction": "南头街道", "year": 2025, "employees": 350, "revenue": 2500})
    assert enterprise.size == "medium"
    rule = SizeRule.objects.get(name="工业")
    data = {f.name: getattr(rule, f.name) for f in SizeRule._meta.fields if f.name != "id"}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["employees_medium"] = 400
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.admin).post(f"/admin/enterprises/sizerule/{rule.pk}/change/", data)
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.size == "small"
