"""惠企政策: rules as data (validated, explained, compiled to SQL), matching with reasons, near misses and
amounts, the bad inputs the issue lists, and who sees which policy."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.enterprises.models import Enterprise, Tag, YearlyFigures
from qinqing.policies import matching, rules, services
from qinqing.policies.models import Policy, PolicyEvent, Status
from tests.conftest import make_user, on_day, real_codes


def _data(world, **extra) -> dict:
    return {"title": "工业企业增产奖励", "issuer": "南山区工业和信息化局", "doc_number": "深南工信〔2026〕12号",
            "level": "district", "jurisdiction": world.district, "benefit_type": "grant",
            "valid_from": "2026-01-01", "valid_until": "2027-12-31", "apply_opens": "2026-11-01",
            "apply_closes": "2026-12-31", "amount_kind": "fixed", "amount_fixed": "20", **extra}


def _figures(enterprise, year, **values):
    YearlyFigures.objects.update_or_create(enterprise=enterprise, year=year, defaults=values)


@pytest.fixture
def factories(world):
    """Three industrial enterprises in 南头 with two years of figures, and the restaurant next door."""
    e = world.enterprise
    Enterprise.objects.filter(pk=e.pk).update(industry_code="C3311", size="medium", is_four_above=True,
                                              established_on=dt.date(2018, 5, 1), tags=["专精特新"])
    _figures(e, 2024, revenue=Decimal("10000"), employees=200)
    _figures(e, 2025, revenue=Decimal("12000"), employees=210)  # +20%
    slow = Enterprise.objects.create(name="深圳市南头五金有限公司", credit_code=real_codes()[3],
                                     sector="industry", industry_code="C3399", jurisdiction=world.town, size="small",
                                     is_four_above=True, established_on=dt.date(2024, 3, 1))
    _figures(slow, 2024, revenue=Decimal("3000"))
    _figures(slow, 2025, revenue=Decimal("3150"))  # +5%
    Enterprise.objects.filter(pk=world.neighbour.pk).update(industry_code="H6210", size="micro")
    Tag.objects.get_or_create(name="专精特新")
    world.enterprise.refresh_from_db()
    return world.enterprise, slow


GROWTH_RULE = [
    {"group": 1, "field": "four_above"},
    {"group": 1, "field": "industry", "value": "C"},
    {"group": 1, "field": "growth", "metric": "revenue", "year": 2025, "op": "gte", "value": "10"},
]


def test_a_rule_is_explained_back_in_plain_chinese(world, factories):
    rule = rules.validate(GROWTH_RULE)
    assert rules.explain(rule) == "适用于：四上企业，且行业属于C 制造业，且2025年营业收入比上年增长10%以上"


def test_eligible_enterprises_are_those_the_rule_selects_with_the_reason_and_amount(world, factories):
    grower, slow = factories
    policy = services.register_policy(world.dispatcher, _data(world), rule_rows=GROWTH_RULE)
    found = list(matching.eligible(policy))
    assert [e.pk for e in found] == [grower.pk]
    assert found[0].estimate == Decimal("20.00")
    assert matching.reason(policy, found[0].matched_group) == "满足：四上企业，行业属于C 制造业，2025年营业收入比上年增长10%以上"


def test_the_five_percent_grower_is_a_near_miss_naming_the_growth_condition(world, factories):
    grower, slow = factories
    policy = services.register_policy(world.dispatcher, _data(world), rule_rows=GROWTH_RULE)
    with CaptureQueriesContext(connection) as ctx:
        misses = list(matching.near_misses(policy))
    assert len(ctx.captured_queries) == 1
    assert [e.pk for e in misses] == [slow.pk]
    assert matching.missing_text(policy, misses[0].missing) == "2025年营业收入比上年增长10%以上"


def test_or_and_not_combine_groups(world, factories):
    grower, slow = factories
    rows = [{"group": 1, "field": "size", "value": "小型 微型"},
            {"group": 2, "field": "tag", "value": "专精特新"},
            {"group": 2, "field": "years", "op": "gte", "value": "5", "negate": True}]
    rule = rules.validate(rows)
    assert rules.explain(rule) == ("适用于以下任一情形：（1）规模为小型或微型；"
                                   "（2）具有“专精特新”标签，且不满足“成立满5年”")
    policy = services.register_policy(world.dispatcher, _data(world), rule_rows=rows)
    assert {e.pk for e in matching.eligible(policy)} == {slow.pk, world.neighbour.pk}
    rows[2]["negate"] = False
    policy = services.set_rule(world.dispatcher, policy, rows)
    matched = {e.pk: e.matched_group for e in matching.eligible(policy)}
    assert matched == {slow.pk: 1, world.neighbour.pk: 1, grower.pk: 2}


def test_a_capped_percentage_amount_is_estimated_in_sql(world, factories):
    grower, slow = factories
    policy = services.register_policy(world.dispatcher, _data(
        world, amount_kind="percent", amount_fixed="", amount_percent="1", amount_metric="revenue",
        amount_year="2025", amount_cap="50"), rule_rows=[{"group": 1, "field": "industry", "value": "C33 C39"}])
    estimates = {e.pk: e.estimate for e in matching.eligible(policy)}
    assert estimates == {grower.pk: Decimal("50.00"), slow.pk: Decimal("31.50")}


def test_an_enterprise_sees_the_policies_it_qualifies_for_in_one_query(world, factories):
    grower, slow = factories
    yes = services.register_policy(world.dispatcher, _data(world), rule_rows=GROWTH_RULE)
    no = services.register_policy(world.dispatcher, _data(world, title="小微企业房租补贴"),
                                  rule_rows=[{"group": 1, "field": "size", "value": "微型"}])
    with CaptureQueriesContext(connection) as ctx:
        found = matching.policies_for(grower, [yes, no])
    assert len(ctx.captured_queries) == 1
    assert [(m.policy.pk, m.estimate) for m in found] == [(yes.pk, Decimal("20.00"))]


@pytest.mark.parametrize(("rows", "message"), [
    ([{"group": 1, "field": "size", "value": "大型"}, {"group": 1, "field": "size", "value": "小型"}],
     "该规则永远不会匹配任何企业：“规模为大型”与“规模为小型”不能同时满足"),
    ([{"group": 1, "field": "figure", "metric": "revenue", "year": 2025, "op": "gte", "value": "2000"},
      {"group": 1, "field": "figure", "metric": "revenue", "year": 2025, "op": "lt", "value": "1000"}],
     "永远不会匹配"),
    ([{"group": 1, "field": "four_above"}, {"group": 1, "field": "four_above", "negate": True}],
     "同时要求“四上企业”和“非四上企业”"),
    ([{"group": 1, "field": "industry", "value": "C Z99"}], "“行业”中的代码“Z99”不是国民经济行业分类"),
    ([{"group": 1, "field": "figure", "metric": "revenue", "op": "gte", "value": "1"}], "“年度数据”未填写年度"),
])
def test_a_rule_that_cannot_be_saved_names_the_field_and_writes_nothing(world, factories, rows, message):
    policy = services.register_policy(world.dispatcher, _data(world))
    with pytest.raises(rules.RuleError) as caught:
        services.set_rule(world.dispatcher, policy, rows)
    assert message in str(caught.value)
    policy.refresh_from_db()
    assert policy.rule == {}
    assert PolicyEvent.objects.filter(policy=policy).count() == 1


@pytest.mark.parametrize(("extra", "message"), [
    ({"apply_opens": "2026-12-10", "apply_closes": "2026-12-01"}, "“申报截止”早于“申报开始”"),
    ({"amount_kind": "percent", "amount_percent": "5", "amount_metric": "revenue", "amount_year": "2025"},
     "请填写“封顶金额（万元）”"),
    ({"amount_kind": "fixed", "amount_fixed": ""}, "请填写“固定金额（万元）”"),
    ({"benefit_type": "补贴"}, "“扶持类型”的取值“补贴”无效"),
])
def test_bad_policy_fields_are_refused_with_the_field_named_and_nothing_written(world, extra, message):
    with pytest.raises(DomainError) as caught:
        services.register_policy(world.dispatcher, _data(world, **extra))
    assert message in caught.value.message
    assert not Policy.objects.exists()


def test_an_expired_policy_leaves_the_enterprise_lists_the_day_after_its_last_valid_day(world, factories):
    policy = services.register_policy(world.dispatcher, _data(world, valid_until="2026-12-05"))
    services.publish_policy(world.dispatcher, policy)
    assert list(Policy.objects.visible_to(world.owner)) == [policy]
    with on_day(dt.date(2026, 12, 5)):
        assert list(Policy.objects.visible_to(world.owner)) == [policy]
    with on_day(dt.date(2026, 12, 6)):
        assert not Policy.objects.visible_to(world.owner).exists()
        policy.refresh_from_db()
        assert policy.shown_status() == Status.EXPIRED
        assert list(Policy.objects.visible_to(world.dispatcher)) == [policy]  # stays in the record


def test_drafts_and_other_districts_policies_stay_out_of_an_enterprises_sight(world):
    draft = services.register_policy(world.dispatcher, _data(world))
    baoan = services.register_policy(world.other_dispatcher, _data(world, jurisdiction=world.other_district))
    city = services.register_policy(world.admin, _data(world, jurisdiction=world.city, level="city"))
    for p in (baoan, city):
        services.publish_policy(world.admin, p)
    assert list(Policy.objects.visible_to(world.owner)) == [city]
    assert set(Policy.objects.visible_to(world.dispatcher)) == {draft, city}
    assert set(Policy.objects.visible_to(world.handler)) == {draft, city}
    assert set(Policy.objects.visible_to(world.other_dispatcher)) == {baoan, city}


def test_only_the_districts_dispatcher_may_register_its_policies(world):
    with pytest.raises(PermissionDeniedError):
        services.register_policy(world.handler, _data(world))
    with pytest.raises(PermissionDeniedError):
        services.register_policy(world.other_dispatcher, _data(world))
    with pytest.raises(PermissionDeniedError):
        services.register_policy(make_user("nobody"), _data(world))
    assert not Policy.objects.exists()


def test_a_policy_without_conditions_applies_to_every_enterprise_of_its_area(world, factories):
    policy = services.register_policy(world.dispatcher, _data(world))
    assert policy.rule_text == "适用于：所有企业"
    assert {e.pk for e in matching.eligible(policy)} == set(
        Enterprise.objects.filter(jurisdiction__path__startswith=world.district.path).values_list("pk", flat=True))
    assert [m.policy for m in matching.policies_for(world.enterprise, [policy])] == [policy]
    assert not matching.near_misses(policy).exists()
