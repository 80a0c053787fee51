"""A question an enterprise raises about a policy on its portal page becomes a 政策落地难 demand linked to the
policy, under the same 1231 clock; the policy page lists those demands to whoever may see them."""

import pytest

from qinqing.demands.models import Demand
from qinqing.policies import services
from qinqing.policies.models import PolicyDemand
from tests.conftest import login


@pytest.fixture
def policy(world):
    p = services.register_policy(world.dispatcher, {
        "title": "南山区首贷贴息", "issuer": "南山区金融工作局", "doc_number": "深南金〔2026〕3号", "level": "district",
        "jurisdiction": world.district, "benefit_type": "financing", "valid_from": "2026-01-01",
        "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31"})
    return services.publish_policy(world.dispatcher, p)


def test_a_question_from_the_portal_becomes_a_linked_policy_demand_on_the_1231_clock(world, policy):
    response = login(world.owner).post(f"/portal/policies/{policy.pk}/ask/",
                                       {"content": "首贷贴息的贷款合同签订日期有什么要求？"})
    link = PolicyDemand.objects.get(policy=policy)
    demand = link.demand
    assert response.status_code == 302 and response["Location"] == f"/portal/demands/{demand.number}/"
    assert demand.category.name == "政策落地难"
    assert demand.enterprise_id == world.enterprise.pk and demand.state == "received"
    assert demand.title == "政策咨询：南山区首贷贴息"
    assert "深南金〔2026〕3号" in demand.content and "贷款合同签订日期" in demand.content
    assert demand.dispatch_due is not None and demand.resolve_due > demand.dispatch_due
    assert demand.events.filter(verb="receive").count() == 1


def test_the_policy_page_lists_its_questions_to_those_who_see_the_demand(world, policy):
    link = services.ask_about_policy(world.owner, policy, "贴息比例按哪一年的LPR计算？")
    page = login(world.dispatcher).get(f"/policies/{policy.pk}/").content.decode()
    assert link.demand.number in page
    # the handler sees the policy, but not a demand that was never dispatched to the unit
    page = login(world.handler).get(f"/policies/{policy.pk}/").content.decode()
    assert link.demand.number not in page and "暂无企业就本政策提问" in page


def test_an_empty_question_is_refused_in_chinese_and_writes_nothing(world, policy):
    response = login(world.owner).post(f"/portal/policies/{policy.pk}/ask/", {"content": "  "})
    assert response.status_code == 400
    assert "请填写您想咨询或反映的问题" in response.content.decode()
    assert not Demand.objects.exists() and not PolicyDemand.objects.exists()


def test_an_enterprise_elsewhere_cannot_ask_about_a_policy_it_cannot_see(world, policy):
    response = login(world.other_owner).post(f"/portal/policies/{policy.pk}/ask/", {"content": "能申请吗？"})
    assert response.status_code == 404
    assert not Demand.objects.exists()
    with pytest.raises(services.PermissionDeniedError):
        services.ask_about_policy(world.dispatcher, policy, "代企业提问")


def test_an_enterprise_opts_out_and_back_in_from_its_policy_list(world):
    client = login(world.owner)
    client.post("/portal/policies/push-settings/", {"opted_out": "1"})
    assert "恢复政策推送" in client.get("/portal/policies/").content.decode()
    client.post("/portal/policies/push-settings/", {"opted_out": "0"})
    assert "退订政策推送" in client.get("/portal/policies/").content.decode()
