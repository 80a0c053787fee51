"""The demand page and its actions: deadlines, allowed forms only, the whole loop by POST, errors, outsiders."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.workdays import calendar as workcal

from .conftest import at, login, on_day


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The calendar is cached per process; rows another test rolled back must not linger in it."""
    workcal.invalidate()
    yield
    workcal.invalidate()


def page(demand):
    return reverse("demands:detail", args=[demand.number])


def act(demand, verb):
    return reverse("demands:act", args=[demand.number, verb])


def post(client, demand, verb, **data):
    demand.refresh_from_db()
    data.setdefault("version", demand.version)
    return client.post(act(demand, verb), data)


def test_the_demand_page_shows_the_four_deadlines_with_a_countdown(world, demand):
    with on_day(dt.date(2026, 9, 30)):
        html = login(world.dispatcher).get(page(demand)).content.decode()
    for label in ("交办", "联系企业", "反馈路径", "办结"):
        assert label in html
    assert "今日到期" in html and "9月30日" in html and "10月8日" in html and "10月30日" in html
    assert demand.number in html and world.enterprise.credit_code in html and "林总" in html


def test_a_done_stage_is_marked_done_and_the_next_one_counts_down(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    html = login(world.handler).get(page(demand)).content.decode()
    assert "完成" in html and ("step-done" in html or "step-late" in html)
    assert "已超期" in html  # contact was due 8 October


def test_the_dispatcher_sees_the_dispatch_form_and_the_handler_does_not(world, demand):
    html = login(world.dispatcher).get(page(demand)).content.decode()
    assert f'action="{act(demand, "dispatch")}"' in html
    assert world.bureau.name in html and world.other_unit.name not in html  # units of the demand's district
    assert 'name="version"' in html
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    handler_html = login(world.handler).get(page(demand)).content.decode()
    assert f'action="{act(demand, "dispatch")}"' not in handler_html
    assert f'action="{act(demand, "accept")}"' in handler_html
    assert f'action="{act(demand, "return")}"' in handler_html
    co_html = login(world.co_handler).get(page(demand)).content.decode()
    assert 'action="' + act(demand, "accept") not in co_html  # a co-unit sees the demand but cannot sign


def test_the_whole_loop_by_posting_the_forms(world, demand):
    dispatcher, handler = login(world.dispatcher), login(world.handler)
    steps = [
        (dispatcher, "dispatch", {"lead_unit": world.bureau.pk, "co_units": [world.finance.pk], "note": "请尽快对接"},
         State.DISPATCHED),
        (handler, "accept", {}, State.ACCEPTED),
        (handler, "contact", {"method": "电话", "note": "已与林总通话"}, State.CONTACTED),
        (handler, "plan", {"path": "联系职业院校举办专场招聘会"}, State.PLANNED),
        (handler, "reply", {"reply": "已于11月对接两所院校，招聘28人", "outcome": "solved"}, State.REPLIED),
        (dispatcher, "evaluate", {"evaluation": "satisfied", "comment": "电话回访，企业满意"}, State.EVALUATED),
        (dispatcher, "close", {"note": "销号"}, State.CLOSED),
    ]
    for client, verb, data, state in steps:
        response = post(client, demand, verb, **data)
        assert response.status_code == 302, (verb, response.content.decode()[:2000])
        assert response["Location"] == page(demand)
        demand.refresh_from_db()
        assert demand.state == state, verb
    assert demand.evaluation_by_callback is True
    assert list(demand.co_units.all()) == [world.finance]
    html = dispatcher.get(page(demand)).content.decode()
    assert "已销号" in html or "已办结" in html
    for label in ("交办", "签收", "联系企业", "反馈解决路径", "正式答复", "评价", "销号"):
        assert label in html
    assert "已与林总通话" in html and "联系职业院校举办专场招聘会" in html and "回访代评" in html
    assert "当前没有您可以进行的操作" in html


def test_a_success_message_follows_the_redirect(world, demand):
    response = login(world.dispatcher).post(act(demand, "dispatch"),
                                            {"lead_unit": world.bureau.pk, "version": demand.version}, follow=True)
    assert "已交办" in response.content.decode()


def test_a_domain_error_shows_its_chinese_message_and_changes_nothing(world, demand):
    version = demand.version
    response = post(login(world.dispatcher), demand, "dispatch", lead_unit=world.bureau.pk,
                    co_units=[world.bureau.pk])
    assert response.status_code == 400
    assert "协办单位不能与主办单位相同。" in response.content.decode()
    demand.refresh_from_db()
    assert demand.state == State.RECEIVED and demand.version == version and demand.lead_unit is None
    assert demand.events.count() == 1


def test_an_action_the_user_may_not_take_is_refused_with_the_reason(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    response = post(login(world.handler), demand, "close")
    assert response.status_code == 409
    assert "不能进行“销号”操作" in response.content.decode()
    demand.refresh_from_db()
    assert demand.state == State.DISPATCHED


def test_a_missing_field_is_shown_next_to_the_form(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    response = post(login(world.handler), demand, "return", reason="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "这个字段是必填项" in html and "退回理由" in html
    demand.refresh_from_db()
    assert demand.state == State.DISPATCHED


def test_a_stale_version_tells_the_user_to_refresh(world, demand):
    client = login(world.dispatcher)
    stale = demand.version
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.return_demand(world.handler, demand, reason="不属于本局")
    response = client.post(act(demand, "dispatch"), {"lead_unit": world.finance.pk, "version": stale}, follow=True)
    assert "请刷新页面后再操作" in response.content.decode()
    demand.refresh_from_db()
    assert demand.state == State.RETURNED and demand.lead_unit is None


def test_an_unknown_verb_is_404(world, demand):
    assert login(world.dispatcher).post(act(demand, "explode"), {"version": 1}).status_code == 404


def test_acting_needs_a_post(world, demand):
    assert login(world.dispatcher).get(act(demand, "dispatch")).status_code == 405


def test_extensions_are_requested_and_approved_through_the_page(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.accept_demand(world.handler, demand)
    old_due = Demand.objects.get(pk=demand.pk).resolve_due
    assert post(login(world.handler), demand, "request_extension", days=5, reason="需协调用地").status_code == 302
    html = login(world.dispatcher).get(page(demand)).content.decode()
    assert "延期申请待审批" in html and "需协调用地" in html
    assert f'action="{act(demand, "approve_extension")}"' in html
    assert post(login(world.dispatcher), demand, "approve_extension").status_code == 302
    demand.refresh_from_db()
    assert demand.extension_days == 5 and demand.resolve_due > old_due


def test_rejecting_an_extension_without_a_reason_is_refused(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.accept_demand(world.handler, demand)
    services.request_extension(world.handler, demand, days=5, reason="需协调用地")
    response = post(login(world.dispatcher), demand, "reject_extension", note="")
    assert "请填写驳回理由。" in response.content.decode()
    assert demand.extensions.get().status == "pending"


def test_merging_takes_the_target_number(world, demand):
    dup = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                  title="招不到数控工人", content="同一问题", category=world.hiring,
                                  received_at=at("2026-10-09 10:00"))
    response = post(login(world.dispatcher), dup, "merge", into=demand.number)
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.state == State.MERGED and dup.duplicate_of == demand


# ---------------------------------------------------------------- outsiders

@pytest.fixture
def with_file(world):
    return services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title="厂区道路破损",
        content="请求修复", received_at=at("2026-11-20 10:00"),
        attachments=[SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff jpeg bytes", content_type="image/jpeg")])


def attachment_url(demand):
    return reverse("demands:attachment", args=[demand.number, demand.attachments.get().pk])


def test_staff_who_see_the_demand_can_download_its_attachment(world, with_file):
    response = login(world.dispatcher).get(attachment_url(with_file))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff jpeg bytes"
    assert "attachment" in response["Content-Disposition"]
    assert "现场照片.jpg" in login(world.dispatcher).get(page(with_file)).content.decode()


@pytest.mark.parametrize("outsider", ["other_dispatcher", "other_handler", "other_owner", "neighbour_owner",
                                      "co_handler"])
def test_outsiders_get_404_on_the_page_the_actions_and_the_attachments(world, with_file, outsider):
    client = login(getattr(world, outsider))
    assert client.get(page(with_file)).status_code == 404
    assert client.post(act(with_file, "dispatch"), {"lead_unit": world.bureau.pk,
                                                    "version": with_file.version}).status_code == 404
    assert client.get(attachment_url(with_file)).status_code == 404
    with_file.refresh_from_db()
    assert with_file.state == State.RECEIVED


def test_another_units_handler_gets_404_after_dispatch(world, with_file):
    services.dispatch_demand(world.dispatcher, with_file, lead_unit=world.bureau)
    client = login(world.other_handler)
    assert client.get(page(with_file)).status_code == 404
    assert client.post(act(with_file, "return"), {"reason": "x", "version": 2}).status_code == 404
    assert client.get(attachment_url(with_file)).status_code == 404


def test_an_unknown_number_is_404(world):
    assert login(world.admin).get("/demands/QQ2026-999999/").status_code == 404


# ---------------------------------------------------------------- intake

def test_a_dispatcher_registers_a_demand_by_credit_code(world):
    client = login(world.dispatcher)
    assert "新增诉求" in client.get(reverse("demands:receive")).content.decode()
    response = client.post(reverse("demands:receive"), {
        "enterprise": world.enterprise.credit_code.lower(), "channel": "meeting", "title": "用地指标紧张",
        "content": "扩建厂房需要新增用地约20亩。", "received_at": "2026-11-23T09:30",
        "attachments": [SimpleUploadedFile("说明.txt", "扩建说明".encode())],
    })
    demand = Demand.objects.get(title="用地指标紧张")
    assert response.status_code == 302 and response["Location"] == page(demand)
    assert demand.enterprise == world.enterprise and demand.channel == Channel.MEETING
    assert demand.first_receiver == world.dispatcher and demand.attachments.count() == 1


def test_intake_finds_an_enterprise_by_part_of_its_name(world):
    response = login(world.dispatcher).post(reverse("demands:receive"), {
        "enterprise": "南头精密", "channel": "visit", "title": "融资难", "content": "流动资金贷款难。"})
    assert response.status_code == 302
    assert Demand.objects.get(title="融资难").enterprise == world.enterprise


def test_intake_refuses_an_enterprise_outside_the_users_reach(world):
    response = login(world.dispatcher).post(reverse("demands:receive"), {
        "enterprise": world.other_enterprise.credit_code, "channel": "visit", "title": "物流用地",
        "content": "需要用地"})
    assert response.status_code == 400
    assert "未找到该企业" in response.content.decode()
    assert not Demand.objects.exists()


def test_intake_shows_the_services_message_for_a_future_time(world):
    response = login(world.dispatcher).post(reverse("demands:receive"), {
        "enterprise": world.enterprise.name, "channel": "visit", "title": "未来诉求", "content": "内容",
        "received_at": "2099-01-01T10:00"})
    assert "受理时间不能晚于当前时间。" in response.content.decode()


def test_the_demand_page_does_not_query_per_timeline_entry(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    services.accept_demand(world.handler, demand)
    client = login(world.dispatcher)
    client.get(page(demand))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page(demand)).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(4):
        services.request_extension(world.handler, demand, days=2, reason="协调中")
        services.reject_extension(world.dispatcher, demand, note="请按期办结")
    assert demand.events.count() == 11
    assert count() == few
