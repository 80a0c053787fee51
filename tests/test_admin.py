"""The Django admin: every page an administrator opens loads, demands and their timeline cannot be changed
around the services, and the working-day calendar can be imported from a CSV file."""

import datetime as dt

import pytest
from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from qinqing.accounts.models import ApiToken, Role, RoleGrant, User
from qinqing.demands import services
from qinqing.demands.models import Demand, DemandEvent, Extension, State, Urging
from qinqing.notifications.models import Notification
from qinqing.workdays.calendar import invalidate
from qinqing.workdays.models import WorkdayOverride

from .conftest import login, make_user


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The working-day calendar is cached per process; overrides written here are rolled back after each
    test, so the cache must not carry them into the next one."""
    invalidate()
    yield
    invalidate()


QINQING_MODELS = [m for m in admin.site._registry if m.__module__.startswith("qinqing.")]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def busy_world(world, demand):
    """A world with a row in every table the admin shows: a dispatched demand with an extension request,
    an urging from the overdue sweep, a notification, an API token and a calendar override."""
    w = world
    services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    services.accept_demand(w.handler, demand)
    services.request_extension(w.handler, demand, days=5, reason="需协调用地指标")
    services.urge_overdue(today=dt.date(2027, 6, 1))
    Notification.objects.create(recipient=w.handler, demand=demand, text="有一件诉求交办给您")
    ApiToken.issue(w.handler, name="对接12345热线")
    WorkdayOverride.objects.create(date=dt.date(2027, 1, 1), kind=WorkdayOverride.Kind.HOLIDAY, note="元旦")
    # Login security (accounts.security): a wrong password counted by axes, then a login it records.
    Client().post(reverse("login"), {"username": "head", "password": "wrong"})
    Client().post(reverse("login"), {"username": "handler", "password": "pw-handler"})
    # The registry (issue 4): an accepted pilot code, a year's figures (and its audit entry), an import job.
    from qinqing.enterprises import services as registry
    from qinqing.enterprises.models import ImportJob

    registry.accept_nonconforming_code(w.admin, "91350211M0000XUF46", "营业执照原件核验，厦门早期试点代码")
    registry.record_yearly_figures(w.admin, w.enterprise, year=2025, employees=120, revenue=2600)
    ImportJob.objects.create(original_name="南山区企业名单.xlsx", uploaded_by=w.admin, file="imports/x.xlsx")
    # The workbench and notification channels (issue 3): preferences, an SMS record, a saved filter, an export.
    from qinqing.notifications.models import Preference, SmsMessage
    from qinqing.workbench.models import ExportJob, SavedFilter

    Preference.objects.create(user=w.handler, by_sms=True)
    SmsMessage.objects.create(recipient=w.handler, phone="13900000001", text="【亲清】新交办诉求", backend="db")
    SavedFilter.objects.create(user=w.dispatcher, name="南山待交办", query="state=received")
    ExportJob.objects.create(user=w.dispatcher, query="q=南山", status=ExportJob.Status.DONE, total_rows=1)
    # Contact duties and visits (issue 5): a cadre and an assignment, a visit, a campaign, a seminar, an
    # overdue-contact urging; each writes its audit line.
    from qinqing.visits import services as duties
    from qinqing.visits.models import Duty, Form, Level

    cadre = duties.register_cadre(w.dispatcher, w.specialist, level=Level.SPECIALIST, jurisdiction=w.district)
    duties.assign_contact(w.dispatcher, w.enterprise, cadre, duty=Duty.SPECIALIST, on=dt.date(2026, 1, 5))
    duties.record_visit(w.specialist, enterprise=w.enterprise, visited_on=dt.date(2026, 3, 2), form=Form.PHONE,
                        discussed="南山园区用工情况")
    duties.create_campaign(w.dispatcher, name="南山区集中走访", jurisdiction=w.district,
                           starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 4, 30))
    duties.record_seminar(w.dispatcher, kind="seminar", title="南山区民营企业座谈会", held_on=dt.date(2026, 3, 10),
                          jurisdiction=w.district)
    duties.urge_overdue_contacts(today=dt.date(2027, 6, 1))
    # The text model (issue 17): a dictionary term, a stored (inactive) version, a dispatcher's correction.
    from qinqing.textmodel.models import Correction, Term, TextModel

    Term.objects.create(word="专精特新", note="南山区政策用语")
    model = TextModel.objects.create(kind="category", version=1, n_examples=0, scores={"macro_f1": 0.5},
                                     pipeline=b"")
    Correction.objects.create(demand=demand, kind="category", model=model, suggested="融资难",
                              chosen="引才用工难", actor=w.dispatcher)
    from qinqing.textmodel import services as textmodel
    from qinqing.textmodel.models import ReplyCheck

    textmodel.configure(w.admin, duplicate_days=60)
    ReplyCheck.objects.create(demand=demand, unit=w.bureau, actor=w.handler, relevance=0.1, flags=["off_topic"],
                              flagged=True, text_hash="0" * 16)
    # Policies (issue 16): a registered and published policy (its trail) with a PDF attachment.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qinqing.policies import services as policies

    policy = policies.register_policy(w.dispatcher, {
        "title": "工业企业增产奖励", "issuer": "南山区工业和信息化局", "doc_number": "深南工信〔2026〕12号",
        "level": "district", "jurisdiction": w.district, "benefit_type": "grant", "valid_from": "2026-01-01",
        "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
        "amount_kind": "fixed", "amount_fixed": "20"})
    policies.publish_policy(w.dispatcher, policy)
    policies.attach_file(w.dispatcher, policy, SimpleUploadedFile(
        "申报指南.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"))
    # 政策兑现 (issue 16): an approved application (its ledger row and trail) and a 免申即享 batch with a line.
    from qinqing.fulfilment import services as fulfilment
    from qinqing.fulfilment.models import Batch, BatchLine

    fulfilment.approve_application(w.dispatcher, fulfilment.apply_for_policy(w.owner, policy), "20")
    batch = Batch.objects.create(policy=policy, title="南山免申即享批次", prepared_by=w.dispatcher)
    BatchLine.objects.create(batch=batch, enterprise=w.neighbour, amount="5")
    # 政策推送与知晓 (issue 16): the policy pushed to the district's enterprises, one opened it, one opted out,
    # one asked a question about it (a 政策落地难 demand).
    from qinqing.policies import pushes, reach

    pushes.push_policy(policy.pk)
    reach.record_open(policy, w.neighbour.pk, "page")
    policies.set_push_opt_out(w.other_owner, opted_out=True)
    policies.ask_about_policy(w.owner, policy, "增产奖励的产值口径是什么？")
    # Cooperation (issue 15): a 派单目录 entry cited by a dispute, a co-unit task, a 批示 with the answer it is
    # owed, a 区级研究推进 review with a progress entry.
    from qinqing.cooperation import services as cooperation
    from qinqing.cooperation.models import CatalogueEntry, CoTask

    entry = CatalogueEntry.objects.create(jurisdiction=w.district, matter="南山企业融资对接", unit=w.finance)
    cooperation.dispute_dispatch(w.handler, demand, entry=entry, reason="融资对接属金融工作局职责")
    CoTask.objects.create(demand=demand, unit=w.finance, due=dt.date(2026, 12, 7))
    services.escalate_demand(w.dispatcher, demand, reason="提请联席办协调")
    cooperation.write_instruction(w.leader, demand, text="南山两部门合力解决")
    services.mark_long_term(w.dispatcher, demand, reason="需区里研究推进")
    cooperation.record_progress(w.handler, demand, text="南山规划论证中")
    # 办理协同 (issue 15): the named handler, a watcher, a unit's canned reply.
    from qinqing.handling import services as handling

    handling.assign_demand(w.head, demand, assignee=w.handler)
    handling.watch_demand(w.supervisor, demand)
    handling.create_canned_reply(w.head, scope="unit", title="南山招聘会答复", text="{企业名称}：已协调专场招聘会。")
    # 层级移交与挂起 (issue 15): another demand handed to the city, a pause request on the world's demand.
    from qinqing.handoffs import services as handoffs
    from qinqing.handoffs.models import Pause

    handed = services.receive_demand(w.dispatcher, enterprise=w.neighbour, channel="visit", title="南山餐饮外摆许可",
                                     content="外摆许可涉及市级城管审批。", category=w.hiring)
    handoffs.hand_off_demand(w.dispatcher, handed, to_jurisdiction=w.city, reason="涉及市级审批权限")
    Pause.objects.create(demand=demand, reason=Pause.Reason.COURT, requested_by=w.handler)
    # 一公开 and Excel in (issue 15): a published specialist, the public figures, an imported demand's job and number.
    from qinqing.transparency.models import DemandImportJob, DemandSource, ServiceSpecialist
    from qinqing.transparency.services import rebuild_public_figures

    ServiceSpecialist.objects.create(unit=w.bureau, post="chief", title="分管副局长", office_phone="0755-26661234")
    rebuild_public_figures()
    job = DemandImportJob.objects.create(original_name="12345工单.xlsx", uploaded_by=w.dispatcher,
                                         file="demand-imports/a.xlsx")
    DemandSource.objects.create(source_number="GD2026050001", demand=demand, job=job)
    # 热点问题 (issue 17): a computed hot issue of the world's demand and another firm's, and its policy study.
    from qinqing.hotissues import services as hot
    from qinqing.hotissues.models import HotIssue, HotIssueMember

    issue = HotIssue.objects.create(
        jurisdiction=w.district, period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 9, 30), rank=1,
        title="南头街道工业企业反映“招工难”问题", heat=90.0, demand_count=1, enterprise_count=1, recent_count=1,
        previous_count=0, growth=1.0, first_at=demand.received_at, last_at=demand.received_at)
    HotIssueMember.objects.create(hot_issue=issue, demand=demand, similarity=1.0, representative=True)
    hot.start_policy_study(w.dispatcher, issue, title="技能人才供给专项研究")
    w.demand = Demand.objects.get(pk=demand.pk)
    return w


def test_every_qinqing_model_is_in_the_admin():
    names = {m._meta.label for m in QINQING_MODELS}
    assert {"accounts.Jurisdiction", "accounts.Unit", "accounts.User", "accounts.ApiToken",
            "workdays.WorkdayOverride", "enterprises.Enterprise", "demands.Category", "demands.SlaRule",
            "demands.Demand", "demands.DemandEvent", "demands.Extension", "demands.Urging",
            "notifications.Notification"} <= names


@pytest.mark.parametrize("model", QINQING_MODELS, ids=lambda m: m._meta.label)
def test_an_administrator_opens_the_list_a_search_and_a_row_of_every_model(busy_world, model):
    client = login(busy_world.admin)
    listing = client.get(admin_url(model, "changelist"))
    assert listing.status_code == 200
    assert str(model._meta.verbose_name_plural) in listing.content.decode()
    assert client.get(admin_url(model, "changelist"), {"q": "南山"}).status_code == 200
    row = model._default_manager.first()
    assert row is not None, "the busy world should hold a row of every model"
    assert client.get(admin_url(model, "change", row.pk)).status_code == 200


def test_the_admin_speaks_chinese(busy_world):
    page = login(busy_world.admin).get(reverse("admin:index")).content.decode()
    assert "亲清" in page
    assert "诉求" in page and "办理记录" in page


def test_a_user_without_staff_status_is_sent_to_the_admin_login(world):
    response = login(world.dispatcher).get(admin_url(Demand, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_timeline_cannot_be_changed_or_deleted_in_the_admin(busy_world):
    client = login(busy_world.admin)
    event = DemandEvent.objects.filter(demand=busy_world.demand).first()
    before = list(DemandEvent.objects.values_list("id", "verb", "note"))

    change = client.post(admin_url(DemandEvent, "change", event.pk), {"verb": "close", "note": "改写"})
    delete = client.post(admin_url(DemandEvent, "delete", event.pk), {"post": "yes"})
    bulk = client.post(admin_url(DemandEvent, "changelist"),
                       {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    add = client.get(admin_url(DemandEvent, "add"))

    assert change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    assert bulk.status_code in (200, 302)  # no such action: the admin ignores it
    assert list(DemandEvent.objects.values_list("id", "verb", "note")) == before
    page = client.get(admin_url(DemandEvent, "change", event.pk)).content.decode()
    assert admin_url(DemandEvent, "delete", event.pk) not in page
    assert 'name="_save"' not in page


def test_a_demand_cannot_be_added_changed_or_deleted_around_the_services(busy_world):
    client = login(busy_world.admin)
    demand = busy_world.demand
    state = demand.state  # wherever the busy world's services left it (a policy study makes it 区级研究推进)

    assert client.get(admin_url(Demand, "add")).status_code == 403
    assert client.post(admin_url(Demand, "change", demand.pk), {"state": State.CLOSED}).status_code == 403
    assert client.post(admin_url(Demand, "delete", demand.pk), {"post": "yes"}).status_code == 403

    demand.refresh_from_db()
    assert demand.state == state
    page = client.get(admin_url(Demand, "change", demand.pk)).content.decode()
    assert demand.number in page
    assert "申请延期" in page  # the timeline is shown under the demand
    assert 'name="_save"' not in page


def test_extensions_and_urgings_are_read_only_in_the_admin(busy_world):
    client = login(busy_world.admin)
    extension, urging = Extension.objects.get(), Urging.objects.first()
    assert client.post(admin_url(Extension, "change", extension.pk), {"status": "approved"}).status_code == 403
    assert client.post(admin_url(Urging, "delete", urging.pk), {"post": "yes"}).status_code == 403
    extension.refresh_from_db()
    assert extension.status == Extension.Status.PENDING


def test_the_token_page_shows_the_digest_but_never_the_raw_token(world):
    raw = ApiToken.issue(world.handler, name="数据交换")
    token = ApiToken.objects.get()
    client = login(world.admin)
    page = client.get(admin_url(ApiToken, "change", token.pk)).content.decode()
    assert token.digest in page
    assert raw not in page
    assert client.get(admin_url(ApiToken, "add")).status_code == 403


def test_revoking_a_token_in_the_admin_stops_it_working(world):
    ApiToken.issue(world.handler)
    token = ApiToken.objects.get()
    response = login(world.admin).post(admin_url(ApiToken, "changelist"),
                                       {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert "已吊销 1 个令牌" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked


def _form_data(response) -> dict:
    """POST data for an admin change form as the browser would send it, unchanged."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if isinstance(bound.field.widget, forms.MultiWidget):  # the admin's date + time inputs
                parts = value if isinstance(value, list) else bound.field.widget.decompress(value)
                for i, part in enumerate(parts):
                    data[f"{bound.html_name}_{i}"] = part
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [getattr(v, "pk", v) for v in value]
            else:
                data[bound.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_an_administrator_grants_a_role_on_the_user_page(world):
    client = login(world.admin)
    url = admin_url(User, "change", world.supervisor.pk)
    data = _form_data(client.get(url))
    prefix = "role_grants"
    index = int(data[f"{prefix}-TOTAL_FORMS"]) - 1  # the empty extra row
    data[f"{prefix}-{index}-role"] = Role.LEADER
    data["phone"] = "13900000009"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert set(RoleGrant.objects.filter(user=world.supervisor).values_list("role", flat=True)) == {
        Role.SUPERVISOR, Role.LEADER}
    world.supervisor.refresh_from_db()
    assert world.supervisor.phone == "13900000009"


def test_the_user_list_costs_the_same_queries_for_many_users(world, django_assert_max_num_queries):
    client = login(world.admin)
    url = admin_url(User, "changelist")
    client.get(url)  # warm the session and content types
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for i in range(30):
        make_user(f"extra{i}", Role.HANDLER, Role.UNIT_HEAD, unit=world.bureau, jurisdiction=world.district)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert "承办单位负责人" in page.content.decode()


def test_the_demand_list_costs_the_same_queries_for_many_demands(busy_world, django_assert_max_num_queries):
    client = login(busy_world.admin)
    url = admin_url(Demand, "changelist")
    client.get(url)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for i in range(10):
        services.receive_demand(busy_world.dispatcher, enterprise=busy_world.enterprise, channel="visit",
                                title=f"用电报装{i}", content="新厂房需要增容。", category=busy_world.hiring)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# ----------------------------------------------------------------- the calendar import


def _upload(text: str, name: str = "2027.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_the_calendar_list_offers_the_csv_import(world):
    page = login(world.admin).get(admin_url(WorkdayOverride, "changelist")).content.decode()
    assert reverse("admin:workdays_workdayoverride_import") in page
    assert "导入CSV" in page


def test_an_administrator_imports_next_years_calendar_from_csv(world):
    client = login(world.admin)
    csv_text = "\ufeffdate,kind,note\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休上班\n"

    response = client.post(reverse("admin:workdays_workdayoverride_import"), {"file": _upload(csv_text)},
                           follow=True)

    assert "已导入 2 个日期" in response.content.decode()
    assert dict(WorkdayOverride.objects.values_list("date", "kind")) == {
        dt.date(2027, 1, 1): WorkdayOverride.Kind.HOLIDAY, dt.date(2027, 2, 7): WorkdayOverride.Kind.WORKDAY}


def test_a_malformed_calendar_file_is_refused_whole_with_the_reason(world):
    client = login(world.admin)
    csv_text = "date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n2027-02-07,weekend\n"

    response = client.post(reverse("admin:workdays_workdayoverride_import"), {"file": _upload(csv_text)})

    assert response.status_code == 200
    page = response.content.decode()
    assert "日历文件有误，未导入任何日期" in page
    assert "第3行" in page and "第4行" in page
    assert not WorkdayOverride.objects.exists()


def test_a_calendar_file_without_the_header_is_refused(world):
    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_import"),
                                       {"file": _upload("2027-01-01,holiday\n")})
    assert "日历文件须包含表头 date,kind" in response.content.decode()
    assert not WorkdayOverride.objects.exists()


def test_a_calendar_file_that_is_not_utf8_is_refused(world):
    upload = SimpleUploadedFile("2027.csv", "date,kind,note\n2027-01-01,holiday,元旦\n".encode("gbk"))
    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_import"), {"file": upload})
    assert "文件须为 UTF-8 编码的 CSV" in response.content.decode()
    assert not WorkdayOverride.objects.exists()


def test_only_staff_reach_the_calendar_import(world):
    response = login(world.dispatcher).get(reverse("admin:workdays_workdayoverride_import"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
