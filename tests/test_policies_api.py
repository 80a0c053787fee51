"""The policy API: a policy's eligible enterprises (paged, with reason, estimate and count) and an enterprise's
matches, sharing the policy page's filters; query counts pinned; outsiders refused."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from qinqing.audit.models import AuditEntry
from qinqing.enterprises.models import Enterprise, YearlyFigures
from qinqing.policies import services
from tests.conftest import bearer, login, real_codes

FACTORY = [{"group": 1, "field": "industry", "value": "C"}]


@pytest.fixture
def policy(world):
    """A district grant of 1% of 2025 revenue (at most 50万元) for manufacturers, and five factories in 南头."""
    codes = real_codes()
    Enterprise.objects.filter(pk=world.enterprise.pk).update(industry_code="C3311")
    YearlyFigures.objects.create(enterprise=world.enterprise, year=2025, revenue=Decimal("3200"))
    for i in range(4):
        Enterprise.objects.create(name=f"深圳市南头第{i + 1}机械厂", credit_code=codes[3 + i], sector="industry",
                                  industry_code="C3420", jurisdiction=world.town)
    Enterprise.objects.filter(pk=world.other_enterprise.pk).update(industry_code="C3311")  # 宝安: outside the area
    p = services.register_policy(world.dispatcher, {
        "title": "制造业增产奖励", "issuer": "南山区工业和信息化局", "level": "district", "jurisdiction": world.district,
        "benefit_type": "grant", "valid_from": "2026-01-01", "valid_until": "2027-12-31",
        "apply_opens": "2026-11-01", "apply_closes": "2026-12-31", "amount_kind": "percent", "amount_percent": "1",
        "amount_metric": "revenue", "amount_year": "2025", "amount_cap": "50"}, rule_rows=FACTORY)
    return services.publish_policy(world.dispatcher, p)


def _get(path, user):
    return Client().get(path, **bearer(user))


def test_the_eligible_list_is_paged_with_its_count_reason_and_estimate(world, policy, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        response = _get(f"/api/v1/policies/{policy.pk}/eligible?limit=2", world.dispatcher)
    body = json.loads(response.content)
    assert response.status_code == 200 and body["count"] == 5 and len(body["items"]) == 2 and body["next"] == 2
    assert body["items"][0]["reason"] == "满足：行业属于C 制造业"
    last = json.loads(_get(f"/api/v1/policies/{policy.pk}/eligible?offset=4", world.dispatcher).content)
    assert last["next"] is None and len(last["items"]) == 1
    mine = json.loads(_get(f"/api/v1/policies/{policy.pk}/eligible?q=精密", world.dispatcher).content)
    assert mine["count"] == 1 and mine["items"][0]["estimate"] == "32.00"


def test_a_wrong_filter_is_refused_in_chinese(world, policy):
    response = _get(f"/api/v1/policies/{policy.pk}/eligible?place=999999", world.dispatcher)
    assert response.status_code == 400 and "区划代码“999999”不存在" in json.loads(response.content)["detail"]


def test_outsiders_are_refused_and_an_enterprise_sees_only_itself(world, policy):
    assert _get(f"/api/v1/policies/{policy.pk}/eligible", world.other_dispatcher).status_code == 404
    assert Client().get(f"/api/v1/policies/{policy.pk}/eligible").status_code == 401
    own = json.loads(_get(f"/api/v1/policies/{policy.pk}/eligible", world.owner).content)
    assert own["count"] == 1 and own["items"][0]["credit_code"] == world.enterprise.credit_code


def test_an_enterprises_matches_answer_in_a_few_queries(world, policy, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        response = _get(f"/api/v1/enterprises/{world.enterprise.credit_code}/policies", world.specialist)
    body = json.loads(response.content)
    assert response.status_code == 200 and body["count"] == 1
    assert body["items"][0]["id"] == policy.pk and body["items"][0]["estimate"] == "32.00"
    assert json.loads(_get(f"/api/v1/enterprises/{world.enterprise.credit_code}/policies?benefit_type=tax",
                           world.specialist).content)["count"] == 0
    assert _get(f"/api/v1/enterprises/{world.enterprise.credit_code}/policies",
                world.other_dispatcher).status_code == 404
    assert _get(f"/api/v1/enterprises/{world.enterprise.credit_code}/policies", world.neighbour_owner).status_code == 404


def test_the_policy_page_filters_and_exports_the_eligible_list_through_the_same_filter(world, policy):
    client = login(world.dispatcher)
    page = client.get(f"/policies/{policy.pk}/?q=机械").content.decode()
    assert "深圳市南头第1机械厂" in page and "深圳市南头精密制造有限公司" not in page
    exported = client.get(f"/policies/{policy.pk}/?q=机械&format=xlsx")
    assert exported["Content-Type"].startswith("application/vnd.openxmlformats")
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.target == "政策符合条件企业" and entry.detail["rows"] == 4
