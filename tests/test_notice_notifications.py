"""A 督办单 reaches the people who must act on it: the unit is told of a notice, the issuer of the answer,
the district's leaders of an escalation; the unit's workbench counts the notices awaiting its answer."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.accounts.models import Role
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel
from qinqing.notifications import services as notes
from qinqing.notifications.models import Notification, SmsMessage
from qinqing.supervision import services
from qinqing.supervision.models import SupervisionNotice
from qinqing.workdays import calendar as workcal

from .conftest import at, login, make_user, on_day
from .test_workbench_home import cards

TODAY = dt.date(2026, 11, 27)  # a Friday


@pytest.fixture(autouse=True)
def _today():
    workcal.invalidate()
    with on_day(TODAY):
        yield
    workcal.invalidate()


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """Run a service and then the notifications it queues after commit, as the worker would."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


def dispatched(world, title, when="2026-11-18 10:00", unit=None, co_units=()):
    with demand_services.acting_at(at(when)):
        d = demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
            content=f"{title}，请协调解决。", category=world.hiring, received_at=at(when))
        return demand_services.dispatch_demand(world.dispatcher, d, lead_unit=unit or world.bureau,
                                               co_units=list(co_units))


@pytest.fixture
def late(world):
    """Overdue at the contact stage, led by 人力资源局 with 金融工作局 assisting."""
    return dispatched(world, "招工难", co_units=[world.finance])


def told_about(verb):
    return {n.recipient for n in Notification.objects.filter(event__verb=verb).select_related("recipient")}


def test_issuing_a_notice_tells_the_lead_units_head_and_handlers_and_nobody_else(world, late, told):
    notice = told(services.issue_notice, world.supervisor, late, requirement="请三日内联系企业并书面反馈。",
                  today=TODAY)
    assert told_about("supervise") == {world.handler, world.head}
    text = Notification.objects.get(recipient=world.handler, event__verb="supervise").text
    assert text == (f"【督办】{notice.number}：诉求{late.number} 招工难，请于12月2日前书面反馈。"
                    "督办要求：请三日内联系企业并书面反馈。")
    # Not the co-unit, another district, the dispatcher, the leaders, the issuer or the enterprise.
    for outsider in (world.co_handler, world.other_handler, world.dispatcher, world.leader, world.supervisor,
                     world.owner):
        assert not Notification.objects.filter(recipient=outsider, event__verb="supervise").exists()


def test_the_step_is_an_internal_timeline_entry_the_enterprise_never_sees(world, late, told):
    told(services.issue_notice, world.supervisor, late, requirement="请反馈", today=TODAY)
    event = late.events.get(verb="supervise")
    assert event.internal and event.actor == world.supervisor and event.note == "请反馈"
    staff = login(world.handler).get(reverse("demands:detail", args=[late.number])).content.decode()
    assert "下发督办单" in staff and "督办反馈期限" in staff
    portal = login(world.owner).get(reverse("portal:detail", args=[late.number])).content.decode()
    assert "督办" not in portal


def test_one_notification_per_person_and_a_retry_sends_nothing_twice(world, late, told, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    both = make_user("both", Role.HANDLER, Role.UNIT_HEAD, full_name="吴兼任", unit=world.bureau,
                     jurisdiction=world.district, email="wu@example.cn", phone="13900000009")
    notes.set_preferences(both, by_email=True, by_sms=True)
    told(services.issue_notice, world.supervisor, late, requirement="请反馈", today=TODAY)
    assert Notification.objects.filter(recipient=both).count() == 1
    assert len(mail.outbox) == 1 and SmsMessage.objects.count() == 1
    event = late.events.get(verb="supervise")
    assert notes.notify_for_event(event.pk) == 0  # the worker ran it again
    assert Notification.objects.filter(event=event).count() == 3 and len(mail.outbox) == 1
    assert SmsMessage.objects.count() == 1


def test_email_and_sms_follow_each_persons_preferences(world, late, told, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.handler.email, world.handler.phone = "qian@example.cn", "13900000001"
    world.handler.save()
    world.head.email, world.head.phone = "sun@example.cn", "13900000002"
    world.head.save()
    notes.set_preferences(world.handler, by_email=True, by_sms=False)
    notes.set_preferences(world.head, by_email=False, by_sms=True)
    notice = told(services.issue_notice, world.supervisor, late, requirement="请反馈", today=TODAY)
    assert [m.to for m in mail.outbox] == [["qian@example.cn"]]
    assert notice.number in mail.outbox[0].body and mail.outbox[0].subject == f"【亲清】{late.number}"
    sms = SmsMessage.objects.get()
    assert sms.phone == "13900000002" and sms.text.startswith("【亲清】【督办】")


def test_answering_tells_the_supervisor_who_issued_it(world, late, told):
    colleague = make_user("sup2", Role.SUPERVISOR, full_name="钟督查", jurisdiction=world.district)
    notice = told(services.issue_notice, world.supervisor, late, requirement="请反馈", today=TODAY)
    told(services.answer_notice, world.handler, notice, answer="已电话联系企业，下周上门。")
    assert told_about("answer_notice") == {world.supervisor}
    text = Notification.objects.get(event__verb="answer_notice").text
    assert text == f"督办单已反馈：{notice.number}（诉求{late.number} 招工难）。反馈内容：已电话联系企业，下周上门。"
    assert not Notification.objects.filter(recipient=colleague).exists()


def test_an_ignored_notice_escalated_tells_the_unit_and_the_districts_leaders_once(world, late, told):
    town_leader = make_user("townleader", Role.LEADER, full_name="街道主任", jurisdiction=world.town)
    city_leader = make_user("cityleader", Role.LEADER, full_name="市领导", jurisdiction=world.city)
    other_leader = make_user("otherleader", Role.LEADER, full_name="宝安区长", jurisdiction=world.other_district)
    first = told(services.issue_notice, world.supervisor, late, requirement="请反馈", today=dt.date(2026, 11, 20))
    assert told(services.escalate_ignored_notices, TODAY) == 1
    follow = SupervisionNotice.objects.get(parent=first)
    assert late.jurisdiction == world.town
    assert told_about("escalate_notice") == {world.handler, world.head, world.leader, town_leader}
    assert not Notification.objects.filter(recipient__in=[city_leader, other_leader, world.co_handler]).exists()
    text = Notification.objects.get(recipient=world.leader).text
    assert text == (f"【升级督办】{follow.number}：{first.number}逾期未反馈，已报区领导。诉求{late.number} 招工难，"
                    "请于12月1日前书面反馈。")
    assert told(services.escalate_ignored_notices, TODAY) == 0
    assert Notification.objects.filter(recipient=world.handler).count() == 2  # the notice, the escalation

    # The system issued the leaders' notice: its answer goes to the supervisor who started it, and the leaders.
    told(services.answer_notice, world.head, follow, answer="已落实专人。")
    assert told_about("answer_notice") == {world.supervisor, world.leader, town_leader}


def notice_rows(html: str) -> list[str]:
    return re.findall(r'<td class="mono"><a href="/supervision/notices/(\d+)/">', html)


def test_the_workbench_counts_only_the_units_notices_awaiting_an_answer_and_leads_to_them(world, late):
    answered = dispatched(world, "已反馈的", when="2026-11-17 10:00")
    finance = dispatched(world, "金融局的", when="2026-11-16 10:00", unit=world.finance)
    open_notice = services.issue_notice(world.supervisor, late, requirement="请反馈", today=TODAY)
    old = services.issue_notice(world.supervisor, answered, requirement="请反馈", today=TODAY)
    services.answer_notice(world.handler, old, answer="已办")
    services.issue_notice(world.supervisor, finance, requirement="请反馈", today=TODAY)

    client = login(world.handler)
    count, url = cards(client.get(reverse("home")).content.decode())["督办单待答复"]
    assert count == 1
    assert notice_rows(client.get(url).content.decode()) == [str(open_notice.pk)]
    # 金融工作局 sees its own one (it also assists on `late`, whose notice is not addressed to it).
    co_client = login(world.co_handler)
    count, url = cards(co_client.get(reverse("home")).content.decode())["督办单待答复"]
    assert count == 1 and len(notice_rows(co_client.get(url).content.decode())) == 1
    assert cards(login(world.other_handler).get(reverse("home")).content.decode())["督办单待答复"][0] == 0


def test_the_workbench_costs_the_same_queries_with_more_notices(world):
    client = login(world.handler)
    first = dispatched(world, "第一件")
    services.issue_notice(world.supervisor, first, requirement="请反馈", today=TODAY)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(6):
        d = dispatched(world, f"诉求{i}")
        services.issue_notice(world.supervisor, d, requirement="请反馈", today=TODAY)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("home")).content.decode()
    assert cards(html)["督办单待答复"][0] == 7
    assert len(many.captured_queries) == len(few.captured_queries) <= 20
