"""The demo's policy library: enough policies of every kind, some 免申即享, some expired, matching a believable
share of the district's enterprises, and the demo enterprise's portal shows what it qualifies for."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.accounts.models import User
from qinqing.enterprises.models import Enterprise
from qinqing.policies import matching
from qinqing.policies.models import BenefitType, Policy
from tests.conftest import login

pytestmark = pytest.mark.xdist_group("demo")


def test_the_demo_library_holds_thirty_policies_some_free_some_expired(demo):
    assert Policy.objects.count() >= 30
    current = Policy.objects.current()
    assert current.filter(no_application=True).count() >= 5
    assert Policy.objects.exclude(pk__in=current).filter(status__in=["published", "expired"]).count() >= 3
    assert set(current.values_list("benefit_type", flat=True)) == set(BenefitType.values)
    assert not Policy.objects.filter(rule_text="").exists()


def test_each_current_policy_matches_some_but_not_all_of_the_district_in_one_query(demo):
    district = Enterprise.objects.filter(jurisdiction__path__startswith=demo.path)
    total = district.count()
    shares = []
    for policy in Policy.objects.current().select_related("jurisdiction"):
        with CaptureQueriesContext(connection) as ctx:
            n = matching.eligible(policy, district).count()
        assert len(ctx.captured_queries) == 1
        shares.append(n / total)
    assert all(0 < s < 1 for s in shares)
    assert sum(1 for s in shares if s < 0.2) >= 10  # most policies are for a few


def test_the_demo_factory_sees_its_matched_policies_on_its_portal(demo):
    owner = User.objects.get(username="qiye")
    page = login(owner).get(reverse("policies_portal:home")).content.decode()
    matched = page.split("其他现行政策")[0]
    assert "规模以上工业企业技术改造设备投资补助" in matched and "30.00万元" in matched
    assert "无需申报" in matched


def test_the_demo_stores_every_current_policys_matches_as_its_rule_selects_them(demo):
    from qinqing.policies.models import PolicyMatch

    for policy in Policy.objects.current():
        assert matching.stores_matches(policy), policy.title
        stored = set(PolicyMatch.objects.filter(policy=policy).values_list("enterprise_id", "estimate"))
        live = {(e.pk, matching.money(e.estimate)) for e in matching.eligible(policy)}
        assert stored == live, policy.title
    assert not PolicyMatch.objects.exclude(policy__in=Policy.objects.current()).exists()


def test_the_technical_renovation_policy_page_lists_the_questions_enterprises_raised_about_it(demo):
    policy = Policy.objects.get(title="规模以上工业企业技术改造设备投资补助")
    questions = policy.questions.select_related("demand")
    assert questions.exists()
    assert all(q.demand.received_at.date() >= policy.published_on for q in questions)
    page = login(User.objects.get(username="admin")).get(reverse("policies:detail", args=[policy.pk]))
    section = page.content.decode().split('id="questions"')[1].split("</section>")[0]
    assert "技改设备补贴申报后迟迟未兑现" in section
    assert "暂无企业就本政策提问" not in section
