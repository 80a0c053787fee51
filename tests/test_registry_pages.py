"""Registry pages: the list (search, filters, query counts, export), an enterprise's page, forms, uploads."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from qinqing.enterprises import services
from qinqing.enterprises.models import Enterprise, Helpers, ImportJob, Sector
from qinqing.lib.uscc import make_code
from tests.conftest import login


def code(n: int) -> str:
    return make_code(f"914403057{n:08d}")


def many(world, n: int, **fields):
    for i in range(n):
        e = Enterprise.objects.create(name=f"深圳市南头批量{i:03d}有限公司", credit_code=code(i),
                                      sector=Sector.INDUSTRY, industry_code="C3311", jurisdiction=world.town,
                                      tags=["专精特新"] if i % 2 else [], **fields)
        Helpers.objects.create(enterprise=e, service_specialist=world.specialist)


def names(response) -> list[str]:
    return [e.name for e in response.context["page"].rows]


def test_the_registry_is_served_at_the_projects_own_addresses(world):
    from django.urls import resolve, reverse

    assert reverse("enterprises:list") == "/enterprises/"
    assert resolve("/enterprises/").view_name == "enterprises:list"
    assert login(world.dispatcher).get("/api/v1/enterprises").status_code == 200


def test_the_list_shows_what_the_user_may_see(world):
    page = login(world.dispatcher).get("/enterprises/")
    assert page.status_code == 200
    assert set(names(page)) == {world.enterprise.name, world.neighbour.name}
    assert "新安物流" not in page.content.decode()


def test_an_enterprise_account_gets_404_on_the_registry(world):
    assert login(world.owner).get("/enterprises/").status_code == 404
    assert login(world.owner).get(f"/enterprises/{world.enterprise.credit_code}/").status_code == 404


def test_search_by_name_contains_prefix_code_and_contact(world):
    client = login(world.admin)
    assert names(client.get("/enterprises/", {"q": "精密"})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"q": "精密", "match": "prefix"})) == []
    assert names(client.get("/enterprises/", {"q": "深圳市南头", "match": "prefix"})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"q": world.other_enterprise.credit_code.lower()})) == [
        world.other_enterprise.name]
    assert names(client.get("/enterprises/", {"q": world.enterprise.credit_code[:10]})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"q": "黄总"})) == [world.other_enterprise.name]
    assert names(client.get("/enterprises/", {"q": "13800000002"})) == [world.other_enterprise.name]


def test_filters_by_industry_size_four_above_tag_and_place(world):
    services.update_enterprise(world.admin, world.enterprise, {"industry_code": "C3311", "tags": ["专精特新"]})
    services.update_enterprise(world.admin, world.other_enterprise, {"industry_code": "G5431", "size": "小型"})
    client = login(world.admin)
    assert names(client.get("/enterprises/", {"section": "C"})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"division": "G54"})) == [world.other_enterprise.name]
    assert names(client.get("/enterprises/", {"size": "small"})) == [world.other_enterprise.name]
    assert names(client.get("/enterprises/", {"four_above": "yes"})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"tag": "专精特新"})) == [world.enterprise.name]
    assert names(client.get("/enterprises/", {"jurisdiction": "440306"})) == [world.other_enterprise.name]
    assert names(client.get("/enterprises/", {"sector": "hospitality"})) == [world.neighbour.name]


@pytest.mark.parametrize("user", ["admin", "dispatcher", "specialist"])
def test_the_list_query_count_does_not_grow_with_the_rows(world, user, django_assert_num_queries):
    client = login(getattr(world, user))
    many(world, 3)
    client.get("/enterprises/")  # warm the session and per-process caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/enterprises/", {"tag": "专精特新"}).status_code == 200
    many_more = Enterprise.objects.count()
    Enterprise.objects.filter(credit_code__in=[code(i) for i in range(3)]).delete()
    many(world, 40)
    assert Enterprise.objects.count() > many_more
    with django_assert_num_queries(len(few)):
        page = client.get("/enterprises/", {"tag": "专精特新"})
    assert len(page.context["page"].rows) == 20


def test_the_list_query_count_is_pinned(world, django_assert_num_queries):
    many(world, 30)
    client = login(world.dispatcher)
    # session, user, roles, user's jurisdiction, filter choices (industry, tags), rows, industry names,
    # the header's unit (base.html), the header's unread notifications, the place select, and the total
    # ("共 N 条": 30 rows do not fit one page, so the pager counts them, see demands.views.common.with_total)
    with django_assert_num_queries(12):
        assert client.get("/enterprises/").status_code == 200


def test_the_enterprise_page_gathers_figures_demands_helpers_and_the_trail(world, demand):
    services.record_yearly_figures(world.admin, world.enterprise, year=2025, employees=350, revenue=2500,
                                   assets=1800, tax_paid=120)
    page = login(world.dispatcher).get(f"/enterprises/{world.enterprise.credit_code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert demand.number in html and "冯专员" in html and "2500.00" in html
    assert page.context["may_edit"] is True
    assert [e.verb for e in page.context["events"]] == ["figures"]


def test_an_outsider_gets_404_on_the_enterprise_page(world):
    assert login(world.other_dispatcher).get(f"/enterprises/{world.enterprise.credit_code}/").status_code == 404
    assert login(world.other_handler).get(f"/enterprises/{world.enterprise.credit_code}/edit/").status_code == 404


def test_a_handler_of_a_demand_sees_the_enterprise_but_only_its_visible_demands(world, demand):
    services_demand = demand
    from qinqing.demands import services as demand_services

    demand_services.dispatch_demand(world.dispatcher, services_demand, lead_unit=world.bureau)
    page = login(world.handler).get(f"/enterprises/{world.enterprise.credit_code}/")
    assert page.status_code == 200 and page.context["may_edit"] is False
    demands = next(s["data"] for s in page.context["main_sections"] if s["key"] == "demands")
    assert [d.number for d in demands["latest"]] == [demand.number]


def test_registering_through_the_form_uses_the_importers_validation(world):
    client = login(world.dispatcher)
    bad = client.post("/enterprises/new/", {"name": "深圳市新公司", "credit_code": "91350100M000100Y4Z",
                                            "industry_code": "C3311", "jurisdiction": "440305001"})
    assert "第18位应为“3”" in bad.content.decode()
    good = client.post("/enterprises/new/", {"name": "深圳市新公司", "credit_code": "91350100m000100y43",
                                             "industry_code": "3311", "jurisdiction": "440305001",
                                             "tags": ["高新技术企业"]})
    assert good.status_code == 302
    enterprise = Enterprise.objects.get(credit_code="91350100M000100Y43")
    assert (enterprise.sector, enterprise.tags, enterprise.jurisdiction) == ("industry", ["高新技术企业"], world.town)


def test_editing_can_clear_a_field_and_logs_the_change(world):
    client = login(world.dispatcher)
    url = f"/enterprises/{world.enterprise.credit_code}/edit/"
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, [])}
    data.update(contact_phone="", name="深圳市南头精密制造股份有限公司")
    assert client.post(url, data).status_code == 302
    world.enterprise.refresh_from_db()
    assert (world.enterprise.name, world.enterprise.contact_phone) == ("深圳市南头精密制造股份有限公司", "")
    event = world.enterprise.events.get(verb="update")
    assert event.actor == world.dispatcher and event.changes["contact_phone"] == ["13800000001", ""]


def test_recording_figures_on_the_page_computes_size_and_four_above(world):
    services.update_enterprise(world.admin, world.enterprise, {"industry_code": "C3311"})
    client = login(world.dispatcher)
    client.post(f"/enterprises/{world.enterprise.credit_code}/figures/",
                {"year": 2025, "employees": "25", "revenue": "350"})
    world.enterprise.refresh_from_db()
    assert (world.enterprise.size, world.enterprise.is_four_above, world.enterprise.figures_year) == (
        "small", False, 2025)


# ---------------------------------------------------------------- Excel out

def test_the_export_follows_the_filters_with_a_frozen_chinese_header(world):
    response = login(world.admin).get("/enterprises/export.xlsx", {"sector": "industry"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet.freeze_panes == "C2"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["企业名称", "统一社会信用代码", "行业代码"] and "营业收入（万元）" in header
    assert sheet[1][0].font.bold and sheet.column_dimensions["A"].width == 36
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [world.enterprise.name]


def test_an_exported_name_beginning_with_equals_stays_text(world):
    Enterprise.objects.filter(pk=world.enterprise.pk).update(name="=HYPERLINK(\"http://x\")")
    response = login(world.admin).get("/enterprises/export.xlsx", {"sector": "industry"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A2"].data_type == "s"


def test_an_export_can_be_imported_back_unchanged(world, tmp_path):
    response = login(world.admin).get("/enterprises/export.xlsx")
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    report = services.import_enterprises(world.admin, path)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


def test_the_import_template_has_instructions_and_drop_downs(world):
    response = login(world.dispatcher).get("/enterprises/template.xlsx")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["企业名单", "选项", "填写说明"]
    sheet = book["企业名单"]
    assert [c.value for c in sheet[1]][:2] == ["企业名称", "统一社会信用代码"]
    validated = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert set(validated) == {"D2", "E2", "G2", "H2"}  # sector, town, size, 四上
    towns = [c.value for c in book["选项"]["D"][1:] if c.value]
    assert towns == ["南头街道"]
    assert "统一社会信用代码为18位" in "".join(str(c.value) for c in book["填写说明"]["A"])


# ---------------------------------------------------------------- the upload page

def xlsx_upload(rows) -> SimpleUploadedFile:
    book = Workbook()
    book.active.append(["企业名称", "统一社会信用代码", "行业代码", "所属镇街"])
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("南头名单.xlsx", out.getvalue())


def test_upload_preview_then_confirm_imports(world, django_capture_on_commit_callbacks, settings):
    client = login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enterprises/imports/", {"file": xlsx_upload([
            ["深圳市南头甲有限公司", code(1), "C3311", "南头街道"], ["深圳市南头乙有限公司", code(2), "F5165", "南头街道"]])})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == "ready" and job.valid_rows == 2
    assert job.file.path.startswith(str(settings.MEDIA_ROOT / "imports"))
    page = client.get(f"/enterprises/imports/{job.pk}/")
    assert "深圳市南头乙有限公司" in page.content.decode() and "确认导入 2 行" in page.content.decode()
    assert not Enterprise.objects.filter(credit_code=code(1)).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/enterprises/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 2)
    assert Enterprise.objects.filter(credit_code__in=[code(1), code(2)]).count() == 2


def test_an_upload_with_errors_offers_the_marked_file_and_only_a_partial_import(world,
                                                                                  django_capture_on_commit_callbacks):
    client = login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/enterprises/imports/", {"file": xlsx_upload([
            ["深圳市南头甲有限公司", code(1), "C3311", "南头街道"], ["深圳市南头乙有限公司", "123", "C3311", "南头街道"]])})
    job = ImportJob.objects.get()
    assert (job.status, job.error_rows) == ("invalid", 1)
    errors = client.get(f"/enterprises/imports/{job.pk}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(errors.streaming_content)))["错误标注"]
    assert "18位" in sheet["B3"].comment.text
    refused = client.post(f"/enterprises/imports/{job.pk}/confirm/", follow=True)
    assert "全部成功才导入" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/enterprises/imports/{job.pk}/confirm/", {"partial": "1"})
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1)


def test_a_hostile_upload_is_refused_with_its_reason_and_jobs_are_private(world, django_capture_on_commit_callbacks):
    client = login(world.dispatcher)
    response = client.post("/enterprises/imports/", {"file": SimpleUploadedFile("x.xlsx", b"not a zip at all")})
    assert "文件内容与扩展名不符：“x.xlsx”不是Excel 工作簿" in response.content.decode()
    assert not ImportJob.objects.exists()  # refused by its content before anything is stored
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/enterprises/imports/", {"file": xlsx_upload([["甲公司", "91440300MA5XXXXXX1", "", ""]])})
    job = ImportJob.objects.get()
    assert login(world.other_dispatcher).get(f"/enterprises/imports/{job.pk}/").status_code == 404
    assert login(world.handler).get("/enterprises/imports/").status_code == 404
