"""Control characters are cleaned where free text comes in, in the one service each write goes through: visits
(the visit form, the problems turned into demands, the enterprise's answer, campaigns, groups, seminars, the end of
a duty), the assignments workbook, 督办单 (requirement, answer), the registry (fields, notes, a code's override
reason, Excel's _xHHHH_ escapes in an imported workbook), saved filter names, calendar notes, reveal reasons and
token names. A bell (\\x07) breaks every Excel or Word file that meets it and PostgreSQL refuses
a NUL (\\x00) outright, so either one used to mean a failed export or a server error. The exports that show the
text (ledger, 交办单, 督办单, board, registry, assignments) open afterwards."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from docx import Document
from openpyxl import Workbook, load_workbook

from qinqing.accounts import services as accounts
from qinqing.accounts.models import ApiToken
from qinqing.audit.models import AuditEntry
from qinqing.demands import services as demand_services
from qinqing.demands.models import Attachment, Demand, DemandEvent
from qinqing.enterprises import services as registry
from qinqing.enterprises.models import CreditCodeOverride, Enterprise, EnterpriseEvent
from qinqing.lib import clock
from qinqing.lib.uscc import make_code
from qinqing.supervision import services as supervision
from qinqing.supervision.models import NoticeEvent
from qinqing.visits import services as visits
from qinqing.visits.models import (
    Assignment,
    Campaign,
    CampaignGroup,
    Duty,
    DutyEvent,
    Form,
    Level,
    Seminar,
    Visit,
)
from qinqing.workbench.models import SavedFilter
from qinqing.workdays import services as calendar
from qinqing.workdays.models import WorkdayOverride

from .conftest import login

# What a bell, a NUL, an escape and a C1 control leave behind: the text around them, lines and tabs kept.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NUL = "\x00"
BELL = "\x07"


def dirty(text: str, *, nul: bool = True) -> str:
    """`text` with a bell after its first character, an escape and (for service calls) a NUL at its end.
    Forms refuse a NUL themselves (Django's validator), so what a browser posts carries the others only."""
    return text[0] + BELL + text[1:] + "\x1b" + (NUL if nul else "")


def assert_clean(*values) -> None:
    for value in values:
        assert not CONTROL.search(value or ""), f"control characters stored: {value!r}"


def texts(rows, *fields) -> list[str]:
    return [getattr(row, f) for row in rows for f in fields]


@pytest.fixture
def cadre(world):
    return visits.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                 jurisdiction=world.district)


# ---------------------------------------------------------------- visits


def test_a_visit_and_its_problems_are_stored_without_control_characters(world, cadre):
    visit = visits.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=clock.today(), form=Form.ON_SITE,
        discussed=dirty("了解扩产计划\r\n第二条"), policies=dirty("送达稳岗补贴政策"),
        problems=[visits.Problem(dirty("厂房消防验收慢"), dirty("新厂房消防验收排队两个月")),
                  visits.Problem(dirty("路灯不亮"), dirty("厂区门口路灯坏了"), solution=dirty("已联系街道当场报修")),
                  visits.Problem(BELL + NUL, "\x1b ")])  # nothing left of it: not a problem at all
    visit.refresh_from_db()
    assert (visit.discussed, visit.policies) == ("了解扩产计划\n第二条", "送达稳岗补贴政策")
    demands = {d.title: d for d in visit.demands.all()}
    assert sorted(demands) == ["厂房消防验收慢", "路灯不亮"]
    assert demands["厂房消防验收慢"].content == "新厂房消防验收排队两个月"
    assert demands["路灯不亮"].reply == "已联系街道当场报修"
    assert_clean(*texts(DemandEvent.objects.filter(demand__in=demands.values()), "note"),
                 *texts(DutyEvent.objects.all(), "note"))


def test_a_visit_recorded_on_the_form_is_stored_without_control_characters(world, cadre):
    response = login(world.specialist).post("/visits/new/", {
        "enterprise": world.enterprise.pk, "visited_on": clock.today().isoformat(), "form": Form.PHONE,
        "discussed": dirty("了解用工情况", nul=False),
        "problem_1_title": dirty("招工难", nul=False), "problem_1_content": dirty("缺少数控操作工", nul=False)})
    assert response.status_code == 302, response.content.decode()[:500]
    visit = Visit.objects.get()
    assert visit.discussed == "了解用工情况"
    assert visit.demands.get().title == "招工难" and visit.demands.get().content == "缺少数控操作工"


def test_the_visit_form_refuses_a_nul_in_chinese_and_stores_nothing(world, cadre):
    response = login(world.specialist).post("/visits/new/", {
        "enterprise": world.enterprise.pk, "visited_on": clock.today().isoformat(), "form": Form.PHONE,
        "discussed": "了解" + NUL + "情况"})
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_an_enterprise_s_answer_to_a_visit_is_stored_without_control_characters(world, cadre):
    visit = visits.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                form=Form.ON_SITE)
    visits.respond_to_visit(world.owner, visit, confirmed=False, comment=dirty("当天没有人来过"))
    visit.refresh_from_db()
    assert visit.enterprise_comment == "当天没有人来过"
    assert DutyEvent.objects.get(verb=DutyEvent.Verb.DISPUTE_VISIT).note == "当天没有人来过"

    other = visits.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                form=Form.PHONE)
    response = login(world.owner).post(f"/portal/visits/{other.pk}/respond/", {
        "confirmed": "yes", "rating": "5", "comment": dirty("服务很周到", nul=False)})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.enterprise_comment == "服务很周到"


def test_a_comment_of_control_characters_alone_is_no_reason_to_dispute_a_visit(world, cadre):
    visit = visits.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                form=Form.ON_SITE)
    with pytest.raises(visits.DomainError, match="请说明异议"):
        visits.respond_to_visit(world.owner, visit, confirmed=False, comment=BELL + NUL)


def test_campaigns_groups_seminars_and_ended_duties_are_stored_without_control_characters(world, cadre):
    today = clock.today()
    campaign = visits.create_campaign(world.dispatcher, name=dirty("南山秋季走访"), jurisdiction=world.district,
                                      starts_on=today - dt.timedelta(days=10), ends_on=today,
                                      description=dirty("走访四上企业"))
    group = visits.form_group(world.dispatcher, campaign, name=dirty("第一组"), members=[world.specialist])
    seminar = visits.record_seminar(world.dispatcher, kind=Seminar.Kind.SEMINAR, title=dirty("民营企业座谈会"),
                                    held_on=today, jurisdiction=world.district, campaign=campaign,
                                    notes=dirty("企业反映融资难"))
    duty = visits.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST)
    visits.end_assignment(world.dispatcher, duty, reason=dirty("专员调岗"))

    campaign, group, seminar = (Campaign.objects.get(), CampaignGroup.objects.get(pk=group.pk),
                                Seminar.objects.get(pk=seminar.pk))
    assert (campaign.name, campaign.description) == ("南山秋季走访", "走访四上企业")
    assert group.name == "第一组"
    assert (seminar.title, seminar.notes) == ("民营企业座谈会", "企业反映融资难")
    assert DutyEvent.objects.get(verb=DutyEvent.Verb.UNASSIGN).note == "专员调岗"
    assert_clean(*texts(DutyEvent.objects.all(), "note"))


def _upload(book: Workbook, name: str = "assign.xlsx") -> io.BytesIO:
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = name
    return stream


def test_the_assignments_workbook_matches_a_name_carrying_an_excel_escaped_control_character(world, cadre):
    # Excel saves a bell pasted into a cell as _x0007_; the reader decodes it, clean_text removes it.
    book = Workbook()
    book.active.append(["统一社会信用代码", "职责", "干部用户名"])
    book.active.append([world.enterprise.credit_code, "为企服务专员", "special_x0007_ist"])
    response = login(world.dispatcher).post("/visits/assignments/import/", {"file": _upload(book)})
    assert response.status_code == 302
    assert Assignment.objects.current().get(enterprise=world.enterprise).cadre == cadre
    exported = login(world.dispatcher).get("/visits/assignments/?format=xlsx")
    assert exported.status_code == 200
    assert list(load_workbook(io.BytesIO(exported.content)).active.values)[1][3] == "specialist"


# ---------------------------------------------------------------- 督办单


def test_a_notice_s_requirement_and_answer_are_stored_without_control_characters_and_its_files_open(world):
    demand = demand_services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel="visit",
                                            title="招工难", content="缺少技术工人。", category=world.hiring)
    demand = demand_services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    notice = supervision.issue_notice(world.supervisor, demand, requirement=dirty("请三个工作日内联系企业"))
    supervision.answer_notice(world.handler, notice, answer=dirty("已电话联系企业\r\n下周上门"))
    notice.refresh_from_db()
    assert notice.requirement == "请三个工作日内联系企业"
    assert notice.answer == "已电话联系企业\n下周上门"
    assert_clean(*texts(NoticeEvent.objects.all(), "note"),
                 *texts(DemandEvent.objects.filter(demand=demand), "note"))

    response = login(world.supervisor).get(reverse("supervision:notice", args=[notice.pk]), {"format": "docx"})
    assert response.status_code == 200
    assert "请三个工作日内联系企业" in [p.text for p in Document(io.BytesIO(response.content)).paragraphs]
    response = login(world.supervisor).get(reverse("supervision:board"), {"format": "xlsx"})
    assert response.status_code == 200
    load_workbook(io.BytesIO(response.content))


# ---------------------------------------------------------------- the registry


def test_an_enterprise_registered_with_control_characters_is_stored_clean_with_its_note(world):
    enterprise = registry.register_enterprise(world.dispatcher, {
        "name": dirty("深圳市南头新公司"), "credit_code": "91350100M000100Y43", "industry_code": "C3311",
        "jurisdiction": "南头街道", "contact_name": dirty("林经理"), "contact_phone": "138" + BELL + "00000003",
        "address": dirty("南头街道深南大道1号")}, note=dirty("企业来电登记"))
    enterprise.refresh_from_db()
    assert (enterprise.name, enterprise.contact_name, enterprise.contact_phone, enterprise.address) == (
        "深圳市南头新公司", "林经理", "13800000003", "南头街道深南大道1号")
    assert EnterpriseEvent.objects.get(enterprise=enterprise).note == "企业来电登记"


def test_a_code_override_reason_is_stored_without_control_characters(world):
    registry.accept_nonconforming_code(world.admin, "91350211M0000XUF46", dirty("营业执照原件核验"))
    assert CreditCodeOverride.objects.get().reason == "营业执照原件核验"


def _shared_strings(data: bytes) -> bytes:
    """The workbook openpyxl wrote (inline strings) rewritten as Excel writes it: text in sharedStrings.xml."""
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    strings: list[str] = []

    def shared(match):
        strings.append(match.group(1))
        return f't="s"><v>{len(strings) - 1}</v>'

    sheet = re.sub(r't="inlineStr"><is><t>(.*?)</t></is>', shared, sheet)
    table = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             f'2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
             + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = sheet.encode()
            elif item.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            target.writestr(item, body)
        target.writestr("xl/sharedStrings.xml", table)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["inline", "shared"])
def test_a_registry_workbook_s_excel_escaped_control_characters_are_removed_and_a_literal_escape_kept(
        world, tmp_path, kind):
    book = Workbook()
    book.active.append(["单位名称", "社会信用代码", "国民经济行业代码", "镇街", "联系人", "地址"])
    book.active.append(["深圳市南头_x0007_第一精密制造有限公司", make_code("91440305700000001"), "3311", "南头街道",
                        "林_x001B_经理", "深南大道_x005F_x0007_号"])
    stream = io.BytesIO()
    book.save(stream)
    data = stream.getvalue() if kind == "inline" else _shared_strings(stream.getvalue())
    path = tmp_path / "名单.xlsx"
    path.write_bytes(data)
    report = registry.import_enterprises(world.admin, path)
    assert report.created == 1, report
    enterprise = Enterprise.objects.get(credit_code=make_code("91440305700000001"))
    assert (enterprise.name, enterprise.contact_name) == ("深圳市南头第一精密制造有限公司", "林经理")
    assert enterprise.address == "深南大道_x0007_号"  # written as _x005F_x0007_: a literal, not a bell
    response = login(world.admin).get(reverse("enterprises:export"))
    assert response.status_code == 200
    load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))


# ---------------------------------------------------------------- the workbench, the calendar, the rest


def test_a_saved_filter_s_name_and_keyword_are_stored_without_control_characters(world):
    response = login(world.dispatcher).post(reverse("workbench:save_filter"), {
        "name": dirty("本周超期"), "query": "q=" + "招" + BELL + "工" + NUL + "&state=received"})
    assert response.status_code == 302
    saved = SavedFilter.objects.get(user=world.dispatcher)
    assert saved.name == "本周超期"
    assert "%07" not in saved.query and "%00" not in saved.query and "%E6%8B%9B%E5%B7%A5" in saved.query
    assert login(world.dispatcher).get(reverse("demands:ledger") + "?" + saved.query).status_code == 200


def test_calendar_notes_from_the_form_and_the_import_are_stored_without_control_characters(world):
    calendar.save_override(world.admin, WorkdayOverride(date=dt.date(2026, 12, 4), kind="holiday",
                                                        note=dirty("临时调休")))
    calendar.import_workdays("date,kind,note\n2026-12-10,holiday," + dirty("防汛停工") + "\n", user=world.admin)
    assert sorted(WorkdayOverride.objects.values_list("note", flat=True)) == ["临时调休", "防汛停工"]


def test_an_attachment_s_name_arrives_without_control_characters(world):
    # Django's multipart parser keeps only printable characters of an uploaded file's name (API and forms alike).
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    response = login(world.owner).post(reverse("portal:submit"), {
        "title": "道路破损", "content": "厂区门口道路破损",
        "attachments": [SimpleUploadedFile("现场" + BELL + "照片\x1b.png", png)]})
    assert response.status_code == 302
    assert Attachment.objects.get().name == "现场照片.png"


def test_reveal_reasons_token_names_and_revocation_reasons_reach_the_audit_log_without_control_characters(world):
    accounts.reveal_personal(world.dispatcher, world.enterprise, "contact_phone", dirty("回访企业核实"))
    _, token = accounts.issue_token(world.admin, world.dispatcher, name=dirty("区政务热线对接"))
    accounts.revoke_token(world.admin, token, dirty("对接结束"))
    assert AuditEntry.objects.get(action="reveal").detail["reason"] == "回访企业核实"
    assert ApiToken.objects.get(user=world.dispatcher).name == "区政务热线对接"
    assert AuditEntry.objects.get(action="token_issued").detail["name"] == "区政务热线对接"
    assert AuditEntry.objects.get(action="token_revoked").detail["reason"] == "对接结束"


def test_the_ledger_export_and_the_slip_open_with_a_visit_s_demands_and_with_older_stored_text(world, cadre):
    visit = visits.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                form=Form.ON_SITE, problems=[visits.Problem(dirty("厂房消防验收慢"), dirty("排队两个月"))])
    demand = demand_services.dispatch_demand(world.dispatcher, visit.demands.get(), lead_unit=world.bureau)
    older = demand_services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel="visit",
                                           title="融资难", content="贷款审批慢。", category=world.finance_kind)
    older = demand_services.dispatch_demand(world.dispatcher, older, lead_unit=world.finance)
    nul = NUL if connection.vendor == "sqlite" else ""  # stored before clean_text existed; PostgreSQL never held one
    Demand.objects.filter(pk=older.pk).update(title="融" + BELL + "资难" + nul)
    client = login(world.dispatcher)
    response = client.get(reverse("workbench:export"), {"all_columns": "1"})
    assert response.status_code == 200
    cells = {c for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True) for c in row}
    assert {"厂房消防验收慢", "融资难"} <= cells
    for number in (demand.number, older.number):
        response = client.get(reverse("workbench:slip", args=[number]))
        assert response.status_code == 200
        Document(io.BytesIO(response.content))
