"""The enterprise portal, as an owner on a phone uses it: submit, follow, rate, reopen."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, Evaluation, Outcome, State
from qinqing.enterprises.models import Helpers

from .conftest import at, login, make_user


def url(name, demand=None):
    return reverse(f"portal:{name}", kwargs={"number": demand.number} if demand else None)


def received(world, title="技术工人招聘困难", enterprise=None, when="2026-09-30 10:00"):
    return services.receive_demand(
        world.dispatcher, enterprise=enterprise or world.enterprise, channel=Channel.VISIT, title=title,
        content=f"{title}，希望相关部门协助。", category=world.hiring, received_at=at(when))


def replied(world, demand):
    """Drive a demand through the loop to the formal reply, as staff would."""
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    d = services.accept_demand(world.handler, d)
    d = services.contact_enterprise(world.handler, d, method="电话")
    d = services.feed_back_path(world.handler, d, path="对接职业院校举办专场招聘会")
    return services.reply_demand(world.handler, d, reply="已于10月20日举办专场招聘会，招到12人。",
                                 outcome=Outcome.SOLVED)


# ---------------------------------------------------------------- who gets in


def test_the_home_page_lists_only_the_enterprises_own_demands_and_the_specialists_phone(world):
    world.specialist.phone = "13912345678"
    world.specialist.save(update_fields=["phone"])
    Helpers.objects.filter(enterprise=world.enterprise).update(contact_leader=world.leader)
    received(world, "技术工人招聘困难")
    received(world, "邻居家的排污问题", enterprise=world.neighbour)

    page = login(world.owner).get(url("home"))

    html = page.content.decode()
    assert page.status_code == 200
    assert world.enterprise.name in html
    assert "技术工人招聘困难" in html
    assert "邻居家的排污问题" not in html
    assert 'href="tel:13912345678"' in html
    assert "冯专员" in html and "王区长" in html
    assert "我要反映问题" in html
    assert "已受理，等待交办" in html


def test_staff_visiting_the_portal_are_sent_to_their_workbench(world):
    response = login(world.dispatcher).get(url("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_an_enterprise_account_without_an_enterprise_gets_404(world):
    from qinqing.accounts.models import Role

    orphan = make_user("orphan", Role.ENTERPRISE, full_name="无企业")
    assert login(orphan).get(url("home")).status_code == 404


def test_an_anonymous_visitor_is_asked_to_log_in(client, world):
    response = client.get(url("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_enterprise_gets_404_on_the_demand_page_rating_and_reopening(world, demand):
    d = replied(world, demand)
    d.attachments.create(file=SimpleUploadedFile("a.pdf", b"%PDF-1.4"), name="a.pdf", size=8)
    # The neighbour is in the same town: visibility, not geography, keeps it out.
    neighbour = login(world.neighbour_owner)
    assert neighbour.get(url("detail", d)).status_code == 404
    assert neighbour.post(url("rate", d), {"evaluation": "satisfied", "version": d.version}).status_code == 404
    assert neighbour.post(url("reopen", d), {"reason": "再办", "version": d.version}).status_code == 404
    file_url = reverse("portal:attachment", kwargs={"number": d.number, "pk": d.attachments.get().pk})
    assert neighbour.get(file_url).status_code == 404
    d.refresh_from_db()
    assert d.state == State.REPLIED


# ---------------------------------------------------------------- submitting


def test_submitting_with_a_photo_creates_an_online_demand_of_the_enterprise(world):
    owner = login(world.owner)
    photo = SimpleUploadedFile("厂房现场.jpg", b"\xff\xd8\xff\xe0fake-jpeg", content_type="image/jpeg")

    response = owner.post(url("submit"), {
        "content": "厂区门口道路破损严重，货车进出困难，希望修缮。", "title": "", "category": "",
        "attachments": [photo],
    })

    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", demand)
    assert demand.channel == Channel.ONLINE
    assert demand.get_channel_display() == "网上平台"
    assert demand.enterprise == world.enterprise
    assert demand.first_receiver == world.owner
    assert demand.title.startswith("厂区门口道路破损严重")
    assert [a.name for a in demand.attachments.all()] == ["厂房现场.jpg"]
    page = owner.get(response["Location"])
    assert f"已提交，编号{demand.number}" in page.content.decode()
    assert "厂房现场.jpg" in page.content.decode()


def test_the_submit_page_states_the_upload_limits(world):
    html = login(world.owner).get(url("submit")).content.decode()
    assert "每个不超过10MB" in html
    assert "pdf、jpg" in html
    assert "引才用工难" in html  # the active categories are offered


def test_an_exe_attachment_is_refused_in_chinese_and_creates_no_demand(world):
    response = login(world.owner).post(url("submit"), {
        "content": "需要帮助", "attachments": [SimpleUploadedFile("setup.exe", b"MZ\x90\x00")],
    })
    assert response.status_code == 400
    assert "不支持的文件类型：“setup.exe”" in response.content.decode()
    assert not Demand.objects.exists()


def test_an_oversize_attachment_is_refused_in_chinese_and_creates_no_demand(world, settings):
    settings.QINQING_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("扫描件.pdf", b"%" * (1024 * 1024 + 1))
    response = login(world.owner).post(url("submit"), {"content": "需要帮助", "attachments": [big]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "文件过大（上限 1 MB）：“扫描件.pdf”" in html
    assert "每个不超过1MB" in html
    assert not Demand.objects.exists()


def test_an_empty_submission_asks_for_the_problem(world):
    response = login(world.owner).post(url("submit"), {"content": "  "})
    assert response.status_code == 400
    assert "请说说遇到的问题。" in response.content.decode()
    assert not Demand.objects.exists()


# ---------------------------------------------------------------- following, rating, reopening


def test_the_demand_page_shows_progress_unit_path_and_reply(world, demand):
    d = replied(world, demand)
    html = login(world.owner).get(url("detail", d)).content.decode()
    assert "南山区人力资源局" in html
    assert "对接职业院校举办专场招聘会" in html
    assert "已于10月20日举办专场招聘会" in html
    assert 'aria-current="step">' in html and "评价" in html
    assert "请您评价" in html
    assert "申请重新办理" not in html


def test_the_owner_rates_a_replied_demand_through_the_page(world, demand):
    d = replied(world, demand)
    owner = login(world.owner)

    response = owner.post(url("rate", d), {"evaluation": "satisfied", "comment": "办得很快", "version": d.version})

    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == State.EVALUATED
    assert d.evaluation == Evaluation.SATISFIED
    assert d.evaluation_by_callback is False
    html = owner.get(url("detail", d)).content.decode()
    assert "感谢您的评价" in html
    assert "申请重新办理" not in html


def test_unsatisfied_without_a_comment_is_refused_and_nothing_changes(world, demand):
    d = replied(world, demand)

    response = login(world.owner).post(url("rate", d), {"evaluation": "unsatisfied", "comment": "",
                                                        "version": d.version})

    assert response.status_code == 400
    assert "选择“不满意”时请说明原因" in response.content.decode()
    before = d.version
    d.refresh_from_db()
    assert (d.state, d.evaluation, d.version) == (State.REPLIED, "", before)


def test_a_rating_from_a_stale_page_is_refused(world, demand):
    d = replied(world, demand)
    stale = d.version - 1
    response = login(world.owner).post(url("rate", d), {"evaluation": "satisfied", "version": stale})
    assert response.status_code == 409
    assert "请刷新页面后再操作" in response.content.decode()
    d.refresh_from_db()
    assert d.state == State.REPLIED


def test_after_an_unsatisfied_rating_the_owner_reopens_it_through_the_page(world, demand):
    d = replied(world, demand)
    owner = login(world.owner)
    owner.post(url("rate", d), {"evaluation": "unsatisfied", "comment": "只招到一半", "version": d.version})
    d.refresh_from_db()
    page = owner.get(url("detail", d)).content.decode()
    assert "申请重新办理" in page
    assert "您评价为不满意，可申请重新办理" in page

    response = owner.post(url("reopen", d), {"reason": "还缺18名技术工人", "version": d.version})

    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == State.REOPENED
    assert d.reopen_count == 1
    html = owner.get(url("detail", d)).content.decode()
    assert "还缺18名技术工人" in html
    assert "正在重新办理" in html


def test_reopening_without_a_reason_is_refused_and_nothing_changes(world, demand):
    d = replied(world, demand)
    d = services.evaluate_demand(world.owner, d, evaluation=Evaluation.UNSATISFIED, comment="没解决")
    response = login(world.owner).post(url("reopen", d), {"reason": "", "version": d.version})
    assert response.status_code == 400
    assert "请填写重办原因。" in response.content.decode()
    d.refresh_from_db()
    assert d.state == State.EVALUATED


def test_internal_notes_never_appear_in_the_portal(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, note="内部备注XYZ")
    d = services.return_demand(world.handler, d, reason="退回理由ABC：应由金融局办理")
    d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, note="再次交办内部说明QWE")
    d = services.accept_demand(world.handler, d, note="签收备注RTY")
    d = services.contact_enterprise(world.handler, d, method="上门走访", note="老板态度内部记录UIO")
    services.escalate_demand(world.dispatcher, d, reason="提级理由ASD")
    other = received(world, "重复反映")
    services.merge_demand(world.dispatcher, other, into=d)

    owner = login(world.owner)
    pages = owner.get(url("detail", d)).content.decode() + owner.get(url("home")).content.decode()

    for secret in ("内部备注XYZ", "退回理由ABC", "再次交办内部说明QWE", "签收备注RTY", "老板态度内部记录UIO",
                   "提级理由ASD", "作为重复诉求并入本件"):
        assert secret not in pages
    assert "上门走访" in pages  # how they were contacted is theirs to know
    assert "已交给南山区人力资源局办理" in pages


# ---------------------------------------------------------------- lists and their cost


def test_the_history_tabs_filter_by_progress(world, demand):
    replied(world, demand)
    received(world, "第二件：用电成本高")
    owner = login(world.owner)
    to_rate = owner.get(url("history") + "?tab=rate").content.decode()
    doing = owner.get(url("history") + "?tab=doing").content.decode()
    assert "技术工人招聘困难" in to_rate and "用电成本高" not in to_rate
    assert "用电成本高" in doing and "技术工人招聘困难" not in doing


@pytest.mark.parametrize(("page", "queries"), [("home", 7), ("history", 5)])
def test_list_query_counts_do_not_grow_with_the_number_of_demands(world, page, queries,
                                                                  django_assert_num_queries):
    owner = login(world.owner)
    for i in range(2):
        d = received(world, f"诉求{i}")
    services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    with CaptureQueriesContext(connection) as few:
        owner.get(url(page))
    for i in range(2, 15):
        d = received(world, f"诉求{i}")
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    # session, user, roles, then the page's own: (enterprise,) counts, rows (the history's one page holds its
    # last row, so its total needs no count); the unread count.
    with django_assert_num_queries(queries), CaptureQueriesContext(connection) as many:
        html = owner.get(url(page)).content.decode()
    assert "诉求14" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_demand_page_query_count_does_not_grow_with_its_timeline(world, demand, django_assert_num_queries):
    d = replied(world, demand)
    owner = login(world.owner)
    # session, user, roles, demand, timeline, attachments, the header's unread count
    with django_assert_num_queries(7):
        assert owner.get(url("detail", d)).status_code == 200


def test_the_demand_page_says_whom_to_call_with_their_phone_numbers(world, demand):
    world.specialist.phone, world.leader.phone = "13700000001", "13700000002"
    world.specialist.save()
    world.leader.save()
    Helpers.objects.filter(enterprise=world.enterprise).update(contact_leader=world.leader)
    owner = login(world.owner)
    page = owner.get(url("detail", demand)).content.decode()
    assert "有疑问，找他们" in page
    assert 'href="tel:13700000001"' in page and 'href="tel:13700000002"' in page
    assert "冯专员" in page and "王区长" in page
    home = owner.get(url("home")).content.decode()
    assert 'href="tel:13700000002"' in home
