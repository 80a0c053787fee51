"""The urging text is written once (STAFF_TEXT["urge"]): the overdue sweep's set-based SQL and the per-event
notification write the same words for the same demand."""

import datetime as dt

from qinqing.demands import services
from qinqing.demands.models import Channel, DemandEvent
from qinqing.notifications import services as notifications
from qinqing.notifications.models import Notification
from tests.conftest import at

# Longer than the 60 characters a notification keeps, with a quote and a percent sign for the SQL.
LONG_TITLE = "企业反映“厂房租金”上涨50%，'临时'用工补贴迟迟未到账，" + "并且希望尽快协调解决相关问题" * 4


def _urged(world, django_capture_on_commit_callbacks, title=LONG_TITLE):
    demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                     title=title, content="内容", received_at=at("2026-09-30 10:00"))
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.urge_overdue(dt.date(2026, 10, 9)) == 1
    return DemandEvent.objects.get(demand=demand, verb="urge")


def _texts(event) -> dict[int, str]:
    return dict(Notification.objects.filter(event=event).values_list("recipient_id", "text"))


def test_the_sweep_tells_the_handlers_in_the_words_the_per_event_notification_uses(
        world, django_capture_on_commit_callbacks):
    event = _urged(world, django_capture_on_commit_callbacks)
    swept = _texts(event)
    assert set(swept) == {world.handler.pk, world.head.pk}
    Notification.objects.filter(event=event).delete()
    assert notifications.notify_for_event(event.pk) == 2
    assert _texts(event) == swept
    text = swept[world.handler.pk]
    assert text == f"【催办】{event.demand.number} {LONG_TITLE[:60]}：联系企业环节已超期，请抓紧办理"


def test_changing_the_urging_template_changes_what_the_sweep_writes(
        world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setitem(notifications.STAFF_TEXT, "urge", "请办理 {title}（{number}）——{note}")
    event = _urged(world, django_capture_on_commit_callbacks, title="招工难")
    assert set(_texts(event).values()) == {f"请办理 招工难（{event.demand.number}）——联系企业环节已超期，请抓紧办理"}


def test_a_text_the_sql_writes_is_cut_where_python_cuts_it():
    sql, params = notifications.text_sql("【催办】{number} {title}：{note}",
                                         {"number": "d.number", "title": "d.title", "note": "e.note"})
    assert params == ["【催办】", " ", "："]
    assert "substr(d.title, 1, 60)" in sql and "substr(e.note, 1, 80)" in sql and sql.endswith(", 1, 300)")
