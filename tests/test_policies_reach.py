"""惠企政策 pushes and reach: each eligible enterprise is told once per stage (publication, 15 and 3 days before
the close), never after opting out, caught up without duplicates after the worker was down; the policy page
counts who was told in time, who opened it and who applied."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.accounts.models import Role
from qinqing.enterprises.models import Enterprise
from qinqing.notifications.models import Notification, Preference, SmsMessage
from qinqing.policies import pushes, reach, services
from qinqing.policies.models import Policy, PolicyOpen, PolicyPush, PushStage
from tests.conftest import login, make_user, on_day, real_codes


def _data(world, **extra) -> dict:
    return {"title": "南山区小微企业稳岗补贴", "issuer": "南山区人力资源局", "level": "district",
            "jurisdiction": world.district, "benefit_type": "grant", "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
            "amount_kind": "fixed", "amount_fixed": "2", **extra}


@pytest.fixture
def district(world):
    """南头's enterprises: two with accounts (the factory, the restaurant), a shop reachable only by its
    registered mobile, a workshop with neither (cannot be told), and one enterprise in 宝安 (outside the area)."""
    codes = real_codes()
    world.shop = Enterprise.objects.create(name="深圳市南头便利店", credit_code=codes[3], sector="wholesale_retail",
                                           jurisdiction=world.town, contact_phone="13912345678")
    world.workshop = Enterprise.objects.create(name="深圳市南头修理部", credit_code=codes[4], sector="industry",
                                               jurisdiction=world.town, contact_phone="0755-26000000")
    return world


@pytest.fixture
def policy(district, django_capture_on_commit_callbacks):
    p = services.register_policy(district.dispatcher, _data(district))
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_policy(district.dispatcher, p)
    return p


def _stages(policy):
    return sorted(PolicyPush.objects.filter(policy=policy).values_list("enterprise__name", "stage"))


def test_publishing_tells_each_reachable_eligible_enterprise_once(district, policy):
    w = district
    assert _stages(policy) == sorted([(w.enterprise.name, "published"), (w.neighbour.name, "published"),
                                      (w.shop.name, "published")])
    notes = Notification.objects.filter(policy_notice__push__policy=policy)
    assert sorted(n.recipient.username for n in notes) == ["neighbour", "owner"]
    assert "南山区小微企业稳岗补贴" in notes[0].text and "12月31日前申报（还剩28天）" in notes[0].text
    # the shop has no account: its registered mobile gets the SMS; the workshop's landline cannot
    assert list(SmsMessage.objects.values_list("phone", flat=True)) == ["13912345678"]
    assert pushes.push_due_policies() == 0
    assert Notification.objects.filter(policy_notice__push__policy=policy).count() == 2
    assert SmsMessage.objects.count() == 1


def test_reminders_go_15_and_3_days_before_the_close_once_each(district, policy):
    with on_day(dt.date(2026, 12, 15)):
        assert pushes.push_due_policies() == 0  # 16 days left: nothing due yet
    with on_day(dt.date(2026, 12, 16)):
        assert pushes.push_due_policies() == 3
        assert pushes.push_due_policies() == 0
    with on_day(dt.date(2026, 12, 28)):
        assert pushes.push_due_policies() == 3
        assert pushes.push_due_policies() == 0
    with on_day(dt.date(2027, 1, 5)):
        assert pushes.push_due_policies() == 0  # the window closed: nobody is told any more
    counts = PolicyPush.objects.filter(policy=policy).values_list("stage", flat=True)
    assert sorted(counts) == ["close_15"] * 3 + ["close_3"] * 3 + ["published"] * 3
    assert Notification.objects.filter(recipient=district.owner).count() == 3
    assert SmsMessage.objects.filter(phone="13912345678").count() == 3


def test_after_the_worker_was_down_the_catch_up_sends_the_latest_stage_only_once(district, policy):
    with on_day(dt.date(2026, 12, 29)):  # down from the 4th to the 28th
        assert pushes.push_due_policies() == 3
        assert pushes.push_due_policies() == 0
    assert sorted(set(PolicyPush.objects.filter(policy=policy).values_list("stage", flat=True))) == [
        "close_3", "published"]
    assert Notification.objects.filter(recipient=district.owner).count() == 2


def test_the_reminder_days_are_a_deployment_setting(district, policy, settings):
    settings.QINQING_POLICY_REMINDER_DAYS = "7"
    assert pushes.reminder_days() == (7,)
    with on_day(dt.date(2026, 12, 16)):
        assert pushes.push_due_policies() == 0
    with on_day(dt.date(2026, 12, 24)):
        assert pushes.push_due_policies() == 3
    assert PushStage.label_of("close_7") == "截止前7天提醒"


def test_an_enterprise_that_opted_out_is_never_told(district, django_capture_on_commit_callbacks):
    w = district
    services.set_push_opt_out(w.owner, opted_out=True)
    p = services.register_policy(w.dispatcher, _data(w))
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_policy(w.dispatcher, p)
    assert w.enterprise.name not in [name for name, _ in _stages(p)]
    assert not Notification.objects.filter(recipient=w.owner).exists()
    services.set_push_opt_out(w.owner, opted_out=False)
    assert pushes.push_due_policies() == 1
    assert Notification.objects.filter(recipient=w.owner).count() == 1


def test_accounts_that_asked_for_sms_get_one_per_push(district, django_capture_on_commit_callbacks):
    w = district
    w.owner.phone = "13700000009"
    w.owner.save(update_fields=["phone"])
    Preference.objects.create(user=w.owner, by_sms=True)
    p = services.register_policy(w.dispatcher, _data(w))
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_policy(w.dispatcher, p)
    pushes.push_due_policies()
    assert SmsMessage.objects.filter(phone="13700000009").count() == 1


def test_an_outsider_account_is_not_told_of_another_districts_policy(district, policy):
    assert not Notification.objects.filter(recipient=district.other_owner).exists()


def test_opening_the_notification_opens_the_policy_and_counts_once(district, policy):
    w = district
    note = Notification.objects.get(recipient=w.owner)
    client = login(w.owner)
    response = client.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/portal/policies/{policy.pk}/"
    client.get(response["Location"])
    opened = PolicyOpen.objects.get(policy=policy)
    assert (opened.enterprise_id, opened.via) == (w.enterprise.pk, "notice")


def test_reach_counts_eligible_told_in_time_opened_and_applied(district, policy):
    w = district
    reach.record_open(policy, w.neighbour.pk, PolicyOpen.Via.PAGE)
    reach.record_open(policy, w.neighbour.pk, PolicyOpen.Via.NOTICE)  # only the first open counts
    with CaptureQueriesContext(connection) as ctx:
        figures = reach.figures(policy)
    assert len(ctx.captured_queries) == 1
    # eligible: the factory, the restaurant, the shop, the workshop; told on 12-03 (28 days before): three
    assert (figures.eligible, figures.aware, figures.opened, figures.applied) == (4, 3, 1, 0)
    assert figures.aware_rate == "75.0%" and figures.applied_rate == "0.0%"


def test_a_push_only_on_the_last_days_is_not_counted_as_told_in_time(district, policy):
    late = make_user("late", Role.ENTERPRISE, enterprise=district.workshop)
    with on_day(dt.date(2026, 12, 29)):
        pushes.push_due_policies()
    assert Notification.objects.filter(recipient=late).count() == 1
    figures = reach.figures(policy)
    assert (figures.eligible, figures.aware) == (4, 3)


def test_the_policy_page_shows_reach_with_its_definitions(district, policy):
    response = login(district.dispatcher).get(f"/policies/{policy.pk}/")
    text = response.content.decode()
    assert "知晓率" in text and "75.0%" in text
    assert reach.DEFINITIONS["aware"] in text and reach.DEFINITIONS["applied"] in text


def test_an_outsider_cannot_opt_another_enterprise_out(district):
    with pytest.raises(services.PermissionDeniedError):
        services.set_push_opt_out(district.dispatcher, opted_out=True)


def test_an_enterprise_that_applied_is_not_reminded_and_counts_towards_the_application_rate(district, policy):
    from qinqing.fulfilment import services as fulfilment

    fulfilment.apply_for_policy(district.owner, policy)
    with on_day(dt.date(2026, 12, 16)):
        assert pushes.push_due_policies() == 2  # the restaurant and the shop; the factory applied
    assert not PolicyPush.objects.filter(policy=policy, enterprise=district.enterprise, stage="close_15").exists()
    figures = reach.figures(policy)
    assert figures.applied == 1 and figures.applied_rate == "25.0%"


def test_the_demo_replays_the_pushes_since_publication_and_a_third_open(district):
    from qinqing.demo import policy_reach

    with on_day(dt.date(2026, 11, 10)):
        p = services.register_policy(district.dispatcher, _data(district, apply_closes="2026-12-15"))
        services.publish_policy(district.dispatcher, p)
    Policy.objects.filter(pk=p.pk).update(published_on=dt.date(2026, 11, 10))
    lines = []
    policy_reach.build(lines.append)
    stages = sorted(PolicyPush.objects.filter(policy=p).values_list("stage", flat=True).distinct())
    assert stages == ["close_15", "published"]  # the 3-day reminder is not due before the 12th
    first = PolicyPush.objects.filter(policy=p, stage="published").first()
    assert first.created_at.date() == dt.date(2026, 11, 10)
    assert not PolicyPush.objects.filter(sms_due=True).exists()
    assert "政策推送已回放" in lines[0]
