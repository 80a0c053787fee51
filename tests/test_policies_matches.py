"""The stored match table (PolicyMatch): what the enterprise's matches, the eligible list and reach read. It
must equal the live rule result right after publish and after a rule change, after a figure import once the
nightly re-match ran, and an ended or expired policy must leave the enterprise's list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qinqing.enterprises import services as enterprise_services
from qinqing.enterprises.models import Enterprise, YearlyFigures
from qinqing.policies import matching, services, tasks
from qinqing.policies.models import Policy, PolicyMatch
from tests.conftest import NOW, login, on_day, real_codes

GROWTH_RULE = [
    {"group": 1, "field": "four_above"},
    {"group": 1, "field": "industry", "value": "C"},
    {"group": 1, "field": "growth", "metric": "revenue", "year": 2025, "op": "gte", "value": "10"},
]


def _data(world, **extra) -> dict:
    return {"title": "工业企业增产奖励", "issuer": "南山区工业和信息化局", "level": "district",
            "jurisdiction": world.district, "benefit_type": "grant", "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
            "amount_kind": "percent", "amount_percent": "1", "amount_metric": "revenue", "amount_year": "2025",
            "amount_cap": "50", **extra}


@pytest.fixture
def factories(world):
    """Two industrial 四上 enterprises in 南头: one grew 20% (12,000万元), one 5% (3,150万元)."""
    Enterprise.objects.filter(pk=world.enterprise.pk).update(industry_code="C3311", size="medium",
                                                             is_four_above=True, established_on=dt.date(2018, 5, 1))
    YearlyFigures.objects.create(enterprise=world.enterprise, year=2024, revenue=Decimal("10000"))
    YearlyFigures.objects.create(enterprise=world.enterprise, year=2025, revenue=Decimal("12000"))
    slow = Enterprise.objects.create(name="深圳市南头五金有限公司", credit_code=real_codes()[3], sector="industry",
                                     industry_code="C3399", jurisdiction=world.town, size="small",
                                     is_four_above=True, established_on=dt.date(2024, 3, 1))
    YearlyFigures.objects.create(enterprise=slow, year=2024, revenue=Decimal("3000"))
    YearlyFigures.objects.create(enterprise=slow, year=2025, revenue=Decimal("3150"))
    world.enterprise.refresh_from_db()
    return world.enterprise, slow


def _stored(policy) -> dict:
    return {m.enterprise_id: (m.matched_group, m.estimate)
            for m in PolicyMatch.objects.filter(policy=policy)}


def _live(policy) -> dict:
    return {e.pk: (e.matched_group, matching.money(e.estimate)) for e in matching.eligible(policy)}


def _published(world, rows=GROWTH_RULE, **extra) -> Policy:
    policy = services.register_policy(world.dispatcher, _data(world, **extra), rule_rows=rows)
    return services.publish_policy(world.dispatcher, policy)


def test_a_draft_stores_nothing_and_publishing_stores_exactly_the_live_result(world, factories):
    grower, slow = factories
    policy = services.register_policy(world.dispatcher, _data(world), rule_rows=GROWTH_RULE)
    assert not PolicyMatch.objects.exists()
    assert policy.matched_at is None
    services.publish_policy(world.dispatcher, policy)
    policy.refresh_from_db()
    assert _stored(policy) == _live(policy) == {grower.pk: (1, Decimal("50.00"))}
    assert policy.matched_at == NOW or abs(policy.matched_at - NOW) < dt.timedelta(minutes=1)
    assert PolicyMatch.objects.get(policy=policy).matched_on == dt.date(2026, 12, 3)


def test_a_rule_change_on_a_published_policy_is_stored_at_once(world, factories):
    grower, slow = factories
    policy = _published(world)
    rows = [*GROWTH_RULE, {"group": 2, "field": "size", "value": "小型"}]
    services.set_rule(world.dispatcher, policy, rows)
    policy.refresh_from_db()
    assert _stored(policy) == _live(policy) == {grower.pk: (1, Decimal("50.00")), slow.pk: (2, Decimal("31.50"))}


def test_an_amount_change_rewrites_the_estimates_and_keeps_the_rows_that_still_hold(world, factories):
    grower, slow = factories
    policy = _published(world, rows=[{"group": 1, "field": "four_above"}])
    before = {m.enterprise_id: m.pk for m in PolicyMatch.objects.filter(policy=policy)}
    services.update_policy(world.dispatcher, policy, _data(world, amount_cap="40"))
    after = {m.enterprise_id: (m.pk, m.estimate) for m in PolicyMatch.objects.filter(policy=policy)}
    assert after[grower.pk][1] == Decimal("40.00")  # capped lower: a new row
    assert after[slow.pk] == (before[slow.pk], Decimal("31.50"))  # unchanged: the same row, not rewritten


def test_after_a_figure_import_the_nightly_rematch_brings_the_stored_list_in_line(world, factories):
    grower, slow = factories
    policy = _published(world)
    assert set(_stored(policy)) == {grower.pk}
    enterprise_services.record_yearly_figures(world.admin, slow, year=2025, revenue="3600")  # now +20%
    assert set(_stored(policy)) == {grower.pk}  # stale until the night
    assert set(_live(policy)) == {grower.pk, slow.pk}
    with on_day(dt.date(2026, 12, 4), "04:20"):
        assert tasks.rematch_all_policies.call_local() == 1  # one row added, nothing rewritten
        assert _stored(policy) == _live(policy)
        assert PolicyMatch.objects.get(policy=policy, enterprise=slow).matched_on == dt.date(2026, 12, 4)
        policy.refresh_from_db()
        assert timezone.localtime(policy.matched_at).date() == dt.date(2026, 12, 4)
        assert tasks.rematch_all_policies.call_local() == 0  # a second run writes nothing


def test_an_ended_policy_leaves_the_enterprises_list_and_the_table(world, factories):
    grower, slow = factories
    policy = _published(world)
    assert [m.policy for m in matching.policies_for(grower, Policy.objects.visible_to(world.owner))] == [policy]
    services.end_policy(world.dispatcher, policy, repeal=False, reason="被新政策取代")
    assert not PolicyMatch.objects.exists()
    assert matching.policies_for(grower, Policy.objects.visible_to(world.owner)) == []


def test_a_policy_past_its_validity_leaves_the_list_that_day_and_the_table_that_night(world, factories):
    grower, slow = factories
    policy = _published(world, valid_until="2026-12-05")
    with on_day(dt.date(2026, 12, 6)):
        assert matching.policies_for(grower, Policy.objects.visible_to(world.owner)) == []
        tasks.rematch_all_policies.call_local()
        assert not PolicyMatch.objects.exists()
        policy.refresh_from_db()
        assert policy.matched_at is None


def test_an_enterprises_matches_are_one_indexed_query_on_the_table(world, factories):
    grower, slow = factories
    policies = [_published(world, title=f"政策{i}", rows=[{"group": 1, "field": "four_above"}]) for i in range(5)]
    draft = services.register_policy(world.dispatcher, _data(world, title="草稿"), rule_rows=GROWTH_RULE)
    with CaptureQueriesContext(connection) as ctx:
        found = matching.policies_for(grower, [*policies, draft])
    assert len(ctx.captured_queries) == 2  # the table for the five published, the live row for the draft
    assert "policies_policymatch" in ctx.captured_queries[0]["sql"]
    assert [m.policy for m in found] == [*policies, draft]
    assert {m.estimate for m in found} == {Decimal("50.00")}


def test_the_policy_page_reads_the_stored_list_and_says_when_it_was_computed(world, factories,
                                                                             django_assert_max_num_queries):
    grower, slow = factories
    policy = _published(world, rows=[{"group": 1, "field": "four_above"}])
    client = login(world.dispatcher)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("policies:detail", args=[policy.pk]))
    page = response.content.decode()
    assert "匹配结果更新于 2026-12-03 10:00" in page
    assert grower.name in page and slow.name in page
    PolicyMatch.objects.filter(enterprise=slow).delete()  # the page shows the table, not a fresh evaluation
    page = client.get(reverse("policies:detail", args=[policy.pk])).content.decode()
    assert grower.name in page and slow.name not in page.split('id="eligible"')[1].split('id="near-misses"')[0]


def test_a_drafts_page_previews_the_rule_live(world, factories):
    policy = services.register_policy(world.dispatcher, _data(world), rule_rows=GROWTH_RULE)
    page = login(world.dispatcher).get(reverse("policies:detail", args=[policy.pk])).content.decode()
    assert "草稿：按当前企业数据实时计算（2026-12-03）" in page
    assert world.enterprise.name in page


def test_the_nightly_run_looks_only_at_changed_enterprises_and_sundays_run_at_all(world, factories):
    grower, slow = factories
    policy = _published(world)
    # a correction written around the services stamps nothing: the incremental night cannot know of it
    YearlyFigures.objects.filter(enterprise=slow, year=2025).update(revenue=Decimal("3600"))
    with on_day(dt.date(2026, 12, 4), "04:20"):
        assert tasks.rematch_all_policies.call_local() == 0
        assert set(_stored(policy)) == {grower.pk}
    with on_day(dt.date(2026, 12, 6), "04:20"):
        assert tasks.rematch_all_policies_in_full.call_local() == 1
        assert _stored(policy) == _live(policy)


def test_a_rule_on_years_since_registration_is_rematched_in_full_as_enterprises_age(world, factories):
    grower, slow = factories  # slow was registered on 2024-03-01
    policy = _published(world, rows=[{"group": 1, "field": "years", "op": "lt", "value": "3"}])
    assert slow.pk in _stored(policy)
    with on_day(dt.date(2027, 3, 2), "04:20"):
        tasks.rematch_all_policies.call_local()
        assert slow.pk not in _stored(policy)
        assert _stored(policy) == _live(policy)
