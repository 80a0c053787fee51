"""The notification centre, its unread count, per-user preferences, e-mail and the SMS gateway."""

import pytest
from django.core import mail
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.notifications import services as notes
from qinqing.notifications.models import Notification, SmsMessage
from qinqing.notifications.sms import BaseBackend
from tests.conftest import login


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """Run a service and then the notifications it queues after commit, as the worker would."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


@pytest.fixture
def dispatched(world, demand, told):
    return told(services.dispatch_demand, world.dispatcher, demand, lead_unit=world.bureau)


class BrokenGateway(BaseBackend):
    def deliver(self, phone, text):
        raise ConnectionError("网关无响应")


def test_a_dispatch_shows_up_unread_in_the_handlers_header_and_centre(world, dispatched):
    client = login(world.handler)
    home = client.get(reverse("home")).content.decode()
    assert 'class="bell-count">1<' in home
    page = client.get(reverse("notifications:centre")).content.decode()
    assert f"新交办诉求：{dispatched.number}" in page
    assert "note-unread" in page


def test_opening_a_notification_marks_it_read_and_leads_to_the_demand(world, dispatched):
    note = Notification.objects.get(recipient=world.handler)
    response = login(world.handler).get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302
    assert response.url == reverse("demands:detail", args=[dispatched.number])
    note.refresh_from_db()
    assert note.read_at is not None
    assert notes.unread_count(world.handler) == 0


def test_an_enterprise_is_told_in_plain_words_and_lands_on_its_portal_page(world, dispatched):
    note = Notification.objects.get(recipient=world.owner, event__verb="dispatch")
    assert note.text == "您反映的问题已交由南山区人力资源局办理，对方将在2个工作日内与您联系。"
    client = login(world.owner)
    portal = client.get(reverse("portal:home")).content.decode()
    assert 'class="p-bell-count">' in portal
    assert "新交办诉求" not in client.get(reverse("notifications:centre")).content.decode()
    response = client.get(reverse("notifications:open", args=[note.pk]))
    assert response.url == reverse("portal:detail", args=[dispatched.number])


def test_an_outsider_gets_404_for_someone_elses_notification(world, dispatched):
    note = Notification.objects.get(recipient=world.owner, event__verb="dispatch")
    for outsider in (world.neighbour_owner, world.other_handler, world.handler):
        assert login(outsider).get(reverse("notifications:open", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_marking_all_read_clears_the_count(world, dispatched):
    client = login(world.owner)
    assert notes.unread_count(world.owner) >= 1
    client.post(reverse("notifications:read_all"))
    assert notes.unread_count(world.owner) == 0


def test_a_handler_who_no_longer_sees_the_demand_is_told_why(world, dispatched, told):
    told(services.return_demand, world.handler, dispatched, reason="不属于本单位职责")
    note = Notification.objects.get(recipient=world.handler, event__verb="dispatch")
    response = login(world.handler).get(reverse("notifications:open", args=[note.pk]), follow=True)
    assert "已不在您的办理范围内" in response.content.decode()


def test_email_and_sms_follow_the_preferences_and_are_sent_once(world, demand, settings, told):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.handler.email, world.handler.phone = "qian@example.cn", "13900000001"
    world.handler.save()
    notes.set_preferences(world.handler, by_email=True, by_sms=True)
    told(services.dispatch_demand, world.dispatcher, demand, lead_unit=world.bureau)
    assert len(mail.outbox) == 1 and "新交办诉求" in mail.outbox[0].body
    sms = SmsMessage.objects.get(phone="13900000001")
    assert sms.status == SmsMessage.Status.LOGGED and sms.text.startswith("【亲清】新交办诉求")
    event = demand.events.get(verb="dispatch")
    assert notes.notify_for_event(event.pk) == 0  # the worker retried: nobody is told twice
    assert len(mail.outbox) == 1 and SmsMessage.objects.count() == 1


def test_people_without_preferences_get_only_the_in_app_notification(world, demand, settings, told):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.handler.email = "qian@example.cn"
    world.handler.save()
    told(services.dispatch_demand, world.dispatcher, demand, lead_unit=world.bureau)
    assert Notification.objects.filter(recipient=world.handler).count() == 1
    assert mail.outbox == [] and SmsMessage.objects.count() == 0


def test_a_failing_sms_gateway_is_recorded_and_does_not_lose_the_notification(world, demand, settings, told):
    settings.QINQING_SMS_BACKEND = "tests.test_notifications_centre.BrokenGateway"
    world.handler.phone = "13900000001"
    world.handler.save()
    notes.set_preferences(world.handler, by_email=False, by_sms=True)
    told(services.dispatch_demand, world.dispatcher, demand, lead_unit=world.bureau)
    sms = SmsMessage.objects.get()
    assert sms.status == SmsMessage.Status.FAILED and "网关无响应" in sms.error
    assert Notification.objects.filter(recipient=world.handler).exists()


def test_asking_for_sms_without_a_phone_number_is_refused_in_chinese(world):
    with pytest.raises(DomainError, match="没有登记手机号"):
        notes.set_preferences(world.owner, by_email=False, by_sms=True)
    response = login(world.owner).post(reverse("notifications:settings"), {"by_sms": "on"})
    assert response.status_code == 400
    assert "没有登记手机号" in response.content.decode()


def test_preferences_are_saved_from_the_settings_page(world):
    world.owner.phone = "13800000001"
    world.owner.save()
    client = login(world.owner)
    assert client.post(reverse("notifications:settings"), {"by_sms": "on"}).status_code == 302
    assert notes.preference_for(world.owner).by_sms is True
    assert 'name="by_sms"' in client.get(reverse("notifications:settings")).content.decode()


def test_the_centre_costs_the_same_queries_with_many_notifications(world, demand, django_assert_max_num_queries, told):
    client = login(world.handler)
    told(services.dispatch_demand, world.dispatcher, demand, lead_unit=world.bureau)
    with django_assert_max_num_queries(8):
        client.get(reverse("notifications:centre"))
    Notification.objects.bulk_create([Notification(recipient=world.handler, demand=demand, text=f"第{i}条")
                                      for i in range(60)])
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notifications:centre")).status_code == 200


def test_the_owner_is_told_when_staff_record_a_callback_but_not_of_their_own_rating(world, demand, told):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.contact_enterprise(world.handler, demand, method="电话")
    services.reply_demand(world.handler, demand, reply="已对接职业院校。", outcome="solved")
    told(services.evaluate_demand, world.specialist, demand, evaluation="satisfied")
    note = Notification.objects.get(recipient=world.owner, event__verb="evaluate")
    assert note.text == "工作人员已电话回访并记录您的评价：满意。"
    assert Notification.objects.filter(recipient=world.dispatcher, event__verb="evaluate").exists()
