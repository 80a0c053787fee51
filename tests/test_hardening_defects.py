"""The hardening issue's "mend these first" defects, each pinned by what a user would notice."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from qinqing.accounts.models import Unit
from qinqing.demands import services
from qinqing.demands.errors import PermissionDeniedError
from qinqing.demands.models import Attachment, Channel, Demand, DemandEvent, State
from qinqing.demands.public import public_view_of
from qinqing.enterprises import services as registry
from qinqing.enterprises.errors import RefusedFile
from qinqing.lib.uscc import make_code
from qinqing.notifications.models import Notification
from qinqing.portal import plain
from tests.conftest import at, bearer, login, real_codes


def post(client, path, body=None, headers=None):
    return client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
                       **(headers or {}))


def intake_body(code, **overrides):
    body = {"credit_code": code, "channel": "visit", "title": "厂房租金补贴申请无人受理",
            "content": "去年申请的厂房租金补贴至今没有结果，多次电话无人接听。"}
    body.update(overrides)
    return body


# ---------------------------------------------------------------- 1. what an enterprise reads of its timeline

STAFF_SECRETS = ("请人社局优先办理，企业背景复杂", "企业老板难缠", "签收备注：先查档案", "延期理由：需会商三个部门",
                 "同意延期，注意口径", "提级理由：区长关注")
STAFF_NAMES = ("赵调度", "钱承办", "孙局长")


@pytest.fixture
def worked_demand(world, demand):
    """The fixture demand after a return, a re-dispatch, an accepted extension and an escalation, each
    with a note written for colleagues."""
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, note=STAFF_SECRETS[0])
    d = services.return_demand(world.handler, d, reason=STAFF_SECRETS[1])
    d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, note=STAFF_SECRETS[0])
    d = services.accept_demand(world.handler, d, note=STAFF_SECRETS[2])
    services.request_extension(world.handler, d, days=5, reason=STAFF_SECRETS[3])
    d = services.approve_extension(world.dispatcher, d, note=STAFF_SECRETS[4])
    d = services.escalate_demand(world.head, d, reason=STAFF_SECRETS[5])
    return d


def test_an_enterprise_reading_its_demand_through_the_api_sees_no_staff_notes_or_names(world, worked_demand):
    for client, headers in ((login(world.owner), {}), (login(world.owner), bearer(world.owner))):
        r = client.get(f"/api/v1/demands/{worked_demand.number}", **headers)
        assert r.status_code == 200, r.content
        text = json.dumps(r.json(), ensure_ascii=False)
        for secret in (*STAFF_SECRETS, *STAFF_NAMES):
            assert secret not in text, secret


def test_the_api_shows_an_enterprise_the_same_timeline_words_as_the_portal(world, worked_demand):
    events = DemandEvent.objects.filter(demand=worked_demand, internal=False).order_by("created_at", "id")
    portal = [(e.text, e.note) for e in plain.timeline(events, world.owner)]
    body = login(world.owner).get(f"/api/v1/demands/{worked_demand.number}").json()
    assert [(e["verb_label"], e["note"]) for e in body["events"]] == portal
    assert "已交给南山区人力资源局办理" in [e["verb_label"] for e in body["events"]]
    assert all(e["actor"] is None and e["data"] == {} for e in body["events"])


def test_staff_still_read_the_whole_timeline_with_names_through_the_api(world, worked_demand):
    body = login(world.dispatcher).get(f"/api/v1/demands/{worked_demand.number}").json()
    assert STAFF_SECRETS[1] in [e["note"] for e in body["events"]]
    assert "钱承办" in [e["actor"] for e in body["events"]]


def test_an_enterprise_is_notified_only_of_steps_its_timeline_shows(world, demand,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, note=STAFF_SECRETS[0])
        d = services.accept_demand(world.handler, d)
        services.request_extension(world.handler, d, days=5, reason=STAFF_SECRETS[3])
    texts = list(Notification.objects.filter(recipient=world.owner).values_list("text", flat=True))
    assert texts and not any(s in t for t in texts for s in STAFF_SECRETS)
    shown = {e.verb for e in DemandEvent.objects.filter(demand=demand)
             if public_view_of(e) is not None}
    told = set(Notification.objects.filter(recipient=world.owner).values_list("event__verb", flat=True))
    assert told <= shown and "request_extension" not in told


# ---------------------------------------------------------------- 2. intake within the caller's reach

@pytest.mark.parametrize("who", ["handler", "head", "specialist"])
def test_staff_cannot_file_through_the_api_for_an_enterprise_of_another_district(world, client, who):
    headers = bearer(getattr(world, who))
    r = post(client, "/demands", intake_body(world.other_enterprise.credit_code), headers)
    assert r.status_code == 403, r.content
    batch = post(client, "/demands/batch", {"items": [intake_body(world.other_enterprise.credit_code)]}, headers)
    assert batch.status_code == 403, batch.content
    assert not Demand.objects.exists()


def test_a_refused_code_does_not_reveal_whether_the_enterprise_exists(world, client):
    headers = bearer(world.handler)
    unknown = real_codes()[5]
    outside = post(client, "/demands", intake_body(world.other_enterprise.credit_code), headers)
    missing = post(client, "/demands", intake_body(unknown), headers)
    assert outside.status_code == missing.status_code
    assert outside.json()["detail"].replace(world.other_enterprise.credit_code, "X") == \
        missing.json()["detail"].replace(unknown, "X")
    assert "深圳市新安物流有限公司" not in json.dumps(outside.json(), ensure_ascii=False)
    assert "或您无权为其受理诉求" in missing.json()["detail"]


def test_the_service_refuses_a_handler_filing_for_an_enterprise_out_of_reach(world):
    with pytest.raises(PermissionDeniedError):
        services.receive_demand(world.handler, enterprise=world.other_enterprise, channel=Channel.VISIT,
                                title="标题", content="内容")
    assert not Demand.objects.exists()


def test_within_reach_staff_still_file_through_the_api(world, client):
    r = post(client, "/demands", intake_body(world.enterprise.credit_code), bearer(world.specialist))
    assert r.status_code == 201, r.content


def test_a_receiver_cannot_settle_a_demand_of_another_district_filed_before_the_fix(world, client):
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title="标题", content="内容")
    # As the API left it: received by a handler for an enterprise of the other district.
    Demand.objects.filter(pk=d.pk).update(first_receiver=world.handler, enterprise=world.other_enterprise,
                                          jurisdiction=world.other_town)
    r = post(client, f"/demands/{d.number}/settle", {"solution": "现场解决"}, bearer(world.handler))
    assert r.status_code in (403, 404), r.content
    assert Demand.objects.get(pk=d.pk).state == State.RECEIVED


# ---------------------------------------------------------------- 3. dispatch targets

def test_the_api_refuses_dispatch_to_another_district_s_unit_or_the_supervision_office(world, client, demand):
    office = Unit.objects.create(name="南山区督查室", kind=Unit.Kind.SUPERVISION, jurisdiction=world.district)
    headers = bearer(world.dispatcher)
    for unit in (world.other_unit, office):
        r = post(client, f"/demands/{demand.number}/dispatch", {"lead_unit": unit.pk}, headers)
        assert r.status_code == 400, (unit.name, r.content)
        r = post(client, f"/demands/{demand.number}/dispatch", {"lead_unit": world.bureau.pk,
                                                                "co_units": [unit.pk]}, headers)
        assert r.status_code == 400, (unit.name, r.content)
    assert Demand.objects.get(pk=demand.pk).state == State.RECEIVED
    r = post(client, f"/demands/{demand.number}/dispatch", {"lead_unit": world.bureau.pk}, headers)
    assert r.status_code == 200, r.content


def test_the_form_and_the_service_offer_the_same_units(world, demand):
    from qinqing.demands.forms import DispatchForm

    form = DispatchForm(demand=demand, user=world.dispatcher)
    assert set(form.fields["lead_unit"].queryset) == set(services.dispatchable_units(demand))


# ---------------------------------------------------------------- 4. control characters

def test_control_characters_are_removed_keeping_lines_and_tabs():
    from qinqing.lib.text import clean_text

    assert clean_text("厂房\x07租金\x00补贴\r\n第二行\t制表\x1b\x85\x7f") == "厂房租金补贴\n第二行\t制表"


def test_a_title_with_control_characters_is_stored_clean_from_the_api_and_the_portal(world, client):
    r = post(client, "/demands", intake_body(world.enterprise.credit_code, title="厂房\x07租金\x00补贴",
                                              content="内容\x08说明"), bearer(world.dispatcher))
    assert r.status_code == 201, r.content
    d = Demand.objects.get(pk=r.json()["id"])
    assert (d.title, d.content) == ("厂房租金补贴", "内容说明")
    login(world.owner).post(reverse("portal:submit"), {"content": "门前\x07道路破损", "title": "道路\x0b破损"})
    assert Demand.objects.filter(title="道路破损", content="门前道路破损").exists()


def test_exports_survive_control_characters_already_stored(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    nul = "\x00" if connection.vendor == "sqlite" else ""  # PostgreSQL never stored a NUL
    Demand.objects.filter(pk=d.pk).update(title=f"招聘\x07困难{nul}", content="内容\x1b",
                                          next_due=at("2026-10-01 00:00").date())
    client = login(world.dispatcher)
    r = client.get(reverse("workbench:export"), {"all_columns": "1"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert "招聘困难" in [c for row in sheet.iter_rows(values_only=True) for c in row]
    r = login(world.supervisor).get(reverse("supervision:board"), {"format": "xlsx"})
    assert r.status_code == 200
    load_workbook(io.BytesIO(r.content))
    r = client.get(reverse("workbench:slip", args=[d.number]))
    assert r.status_code == 200
    assert "招聘困难" in "".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs) + "".join(
        c.text for t in Document(io.BytesIO(r.content)).tables for row in t.rows for c in row.cells)


# ---------------------------------------------------------------- 5. what fuzzing found

@pytest.mark.parametrize("ref", ["%C2%B3", "%C2%B3%C2%B2", "%D9%A3"])
def test_a_superscript_or_foreign_digit_is_not_a_demand_id(world, client, ref):
    headers = bearer(world.dispatcher)
    assert client.get(f"/api/v1/demands/{ref}", **headers).status_code == 404
    assert client.post(f"/api/v1/demands/{ref}/accept", "{}", content_type="application/json",
                       **headers).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/demands", "/api/v1/enterprises"])
def test_an_absurd_offset_is_a_chinese_422_not_a_crash(world, client, path):
    r = client.get(path, {"offset": "99999999999999999999"}, **bearer(world.dispatcher))
    assert r.status_code == 422, r.content
    assert "offset" in r.json()["detail"] and "取值过大" in r.json()["detail"]


def test_a_long_chinese_attachment_name_is_kept_while_the_stored_name_stays_short(world):
    name = "企业营业执照及厂房租赁合同扫描件" * 12 + ".pdf"
    assert len(name) > 190
    response = login(world.owner).post(reverse("portal:submit"), {
        "content": "厂房租金补贴申请无人受理", "attachments": [SimpleUploadedFile(name[-200:], b"%PDF-1.4 test")]})
    assert response.status_code == 302, response.content.decode()[:2000]
    item = Attachment.objects.get()
    assert item.name == name[-200:]
    assert len(item.file.name.rsplit("/", 1)[-1].encode()) < 100 and item.file.name.endswith(".pdf")
    download = login(world.owner).get(reverse("portal:attachment", args=[item.demand.number, item.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test"


# ---------------------------------------------------------------- 6. damaged and swollen workbooks

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def registry_book(tmp_path, rows=3, name="名单.xlsx"):
    """A registry workbook whose text sits in a shared-strings part, as Excel saves it (openpyxl writes none)."""
    table = [["单位名称", "社会信用代码", "国民经济行业代码", "镇街"]]
    table += [[f"深圳市南头第{n}精密制造有限公司", make_code(f"914403057{n:08d}"), "3311", "南头街道"]
              for n in range(rows)]
    strings = list(dict.fromkeys(text for row in table for text in row))
    index = {text: i for i, text in enumerate(strings)}
    sheet_rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{"ABCD"[c]}{r}" t="s"><v>{index[text]}</v></c>' for c, text in enumerate(row))
        + "</row>" for r, row in enumerate(table, start=1))
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"/>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="r1" Target="xl/workbook.xml" '
                       'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
                       "</Relationships>",
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="名单" sheetId="1" '
                           'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Target="worksheets/'
                                      f'sheet1.xml" Type="{REL}/worksheet"/><Relationship Id="rId2" '
                                      f'Target="sharedStrings.xml" Type="{REL}/sharedStrings"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_rows}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
                                + "".join(f"<si><t>{text}</t></si>" for text in strings) + "</sst>",
    }
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for part, xml in parts.items():
            book.writestr(part, xml)
    return path


def test_the_hand_made_workbook_imports_cleanly(world, tmp_path):
    report = registry.import_enterprises(world.admin, registry_book(tmp_path))
    assert report.created == 3


def corrupt_member(path, member="xl/worksheets/sheet1.xml"):
    """Flip a byte inside one member's compressed data: the zip directory stays intact."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    data = bytearray(path.read_bytes())
    with path.open("rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len = int.from_bytes(fh.read(2), "little")
        extra_len = int.from_bytes(fh.read(2), "little")
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 10, start + min(info.compress_size, 60)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def lie_about_size(path, member="xl/sharedStrings.xml"):
    """Rewrite the central directory so that a member claims a smaller uncompressed size than it has."""
    data = bytearray(path.read_bytes())
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:  # each central-directory entry
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        if data[pos + 46:pos + 46 + name_len].decode() == member:
            data[pos + 24:pos + 28] = (5).to_bytes(4, "little")  # its uncompressed size
        pos += 4
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("damage", [corrupt_member, lambda p: corrupt_member(p, "xl/sharedStrings.xml"),
                                    lie_about_size])
def test_a_damaged_workbook_is_refused_as_damaged(world, tmp_path, damage):
    path = damage(registry_book(tmp_path))
    with pytest.raises(RefusedFile, match="文件已损坏"):
        registry.import_enterprises(world.admin, path)


def test_the_command_line_says_the_file_is_damaged_instead_of_a_traceback(world, tmp_path):
    from django.core.management import CommandError, call_command

    path = corrupt_member(registry_book(tmp_path))
    with pytest.raises(CommandError, match="文件已损坏"):
        call_command("import_enterprises", str(path), "--user", world.admin.username, stdout=io.StringIO())


def test_a_workbook_with_too_many_shared_strings_is_refused(world, tmp_path, settings):
    settings.QINQING_IMPORT_LIMITS = {"max_shared_strings": 10}
    path = registry_book(tmp_path, rows=20)
    with pytest.raises(RefusedFile, match="文本表"):
        registry.import_enterprises(world.admin, path)


def test_shared_strings_are_capped_by_their_characters_too(world, tmp_path, settings):
    settings.QINQING_IMPORT_LIMITS = {"max_shared_string_chars": 200}
    path = registry_book(tmp_path, rows=20)
    with pytest.raises(RefusedFile, match="文本表"):
        registry.import_enterprises(world.admin, path)


def test_the_intake_lookup_s_sql_agrees_with_visible_to_for_every_kind_of_user(world, demand):
    from qinqing.enterprises.models import Enterprise, visible_sql

    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    everyone = [world.dispatcher, world.handler, world.head, world.co_handler, world.other_handler,
                world.other_dispatcher, world.supervisor, world.leader, world.specialist, world.admin,
                world.owner, world.other_owner]
    table = connection.ops.quote_name(Enterprise._meta.db_table)
    for user in everyone:
        reach = visible_sql(user, "e", "j")
        where, params = reach if reach is not None else ("1 = 1", [])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT e.id FROM {table} e JOIN accounts_jurisdiction j ON j.id = e.jurisdiction_id "  # noqa: S608
                           f"WHERE {where}", params)
            by_sql = {row[0] for row in cursor.fetchall()}
        assert by_sql == set(Enterprise.objects.visible_to(user).values_list("pk", flat=True)), user.username


@pytest.mark.parametrize("who", ["dispatcher", "specialist"])
def test_the_reach_check_costs_the_intake_no_extra_query(world, client, who):
    from django.test.utils import CaptureQueriesContext

    from tests.test_intake_fast import first_table, statements

    headers = bearer(getattr(world, who))
    post(client, "/demands", intake_body(world.enterprise.credit_code), headers)  # the token's first use
    with CaptureQueriesContext(connection) as ctx:
        r = post(client, "/demands", intake_body(world.enterprise.credit_code, title="第二件"), headers)
    assert r.status_code == 201, r.content
    assert [first_table(s) for s in statements(ctx.captured_queries)] == [
        "accounts_apitoken", "enterprises_enterprise", "demands_demandsequence", "demands_demand",
        "demands_demandevent"]
