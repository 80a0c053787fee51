"""An import that reuses a registered credit code shows what it would change before anything is written:
每行 新增 / 更新（原值 → 新值）/ 无变化 / 错误; a rename or a move needs an explicit choice, else it is
skipped and said so; the change log reads in labels, not codes."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from qinqing.enterprises import services
from qinqing.enterprises.models import Enterprise, EnterpriseEvent, ImportJob, Sector
from qinqing.lib.uscc import make_code
from tests.conftest import login

HEADERS = ["企业名称", "统一社会信用代码", "行业代码", "所属镇街", "联系人", "联系电话"]


def code(n: int) -> str:
    return make_code(f"914403057{n:08d}")


def book(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def takeover_row(world) -> list:
    """The walk's row: 南头精密's registered code under another name, sector, town and contact."""
    return ["深圳市新安建材贸易有限公司", world.enterprise.credit_code, "F5165", "新安街道", "王经理", "13900000009"]


def upload(client, content: bytes, capture) -> ImportJob:
    with capture(execute=True):
        response = client.post("/enterprises/imports/", {"file": SimpleUploadedFile("名单.xlsx", content)})
    assert response.status_code == 302
    return ImportJob.objects.latest("pk")


def confirm(client, job, capture, **data) -> ImportJob:
    with capture(execute=True):
        client.post(f"/enterprises/imports/{job.pk}/confirm/", data)
    job.refresh_from_db()
    return job


def test_the_preview_shows_each_change_a_reused_code_would_make_old_to_new(
        world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    new = ["深圳市南头新开五金有限公司", code(1), "C3311", "南头街道", "", ""]
    job = upload(client, book([takeover_row(world), new]), django_capture_on_commit_callbacks)
    assert (job.status, job.new_rows, job.update_rows, job.move_rows) == ("ready", 1, 1, 1)
    page = client.get(f"/enterprises/imports/{job.pk}/").content.decode()
    assert "更名/迁址须确认（1家）" in page
    assert "企业名称：深圳市南头精密制造有限公司 → <strong>深圳市新安建材贸易有限公司</strong>" in page
    assert "行业门类：工业 → <strong>批发零售业</strong>" in page
    assert "所在镇街园区：南头街道 → <strong>新安街道</strong>" in page
    assert "联系人：林总 → <strong>王经理</strong>" in page  # the contact it would replace
    assert "联系电话：13800000001 → <strong>13900000009</strong>" in page
    assert "国民经济行业代码：空 → <strong>F5165 建材批发</strong>" in page
    assert 'name="accept" value="2"' in page and 'name="accept_all" value="1"' in page
    assert [r["kind_label"] for r in job.preview] == ["更新", "新增"]
    assert "有效 ✓" not in page and "industry" not in page and "wholesale_retail" not in page


def test_confirming_without_accepting_leaves_the_name_town_and_contact_and_says_so(
        world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    job = upload(client, book([takeover_row(world), ["深圳市南头新开五金有限公司", code(1), "C3311", "南头街道", "", ""]]),
                 django_capture_on_commit_callbacks)
    job = confirm(client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.created_count, job.updated_count, job.skipped_count) == ("done", 1, 0, 1)
    assert "未确认的更名/迁址，已跳过1家（第2行）" in job.message
    enterprise = Enterprise.objects.get(pk=world.enterprise.pk)
    assert (enterprise.name, enterprise.jurisdiction, enterprise.sector, enterprise.contact_name) == (
        "深圳市南头精密制造有限公司", world.town, Sector.INDUSTRY, "林总")
    assert not enterprise.events.exists()
    assert "未确认的更名/迁址，已跳过1家" in client.get(f"/enterprises/imports/{job.pk}/").content.decode()


@pytest.mark.parametrize("choice", [{"accept": "2"}, {"accept_all": "1"}], ids=["per row", "all at once"])
def test_an_accepted_rename_and_move_is_applied_and_the_log_reads_in_labels(
        world, django_capture_on_commit_callbacks, choice):
    client = login(world.admin)
    job = upload(client, book([takeover_row(world)]), django_capture_on_commit_callbacks)
    job = confirm(client, job, django_capture_on_commit_callbacks, **choice)
    assert (job.status, job.updated_count, job.skipped_count) == ("done", 1, 0)
    enterprise = Enterprise.objects.get(pk=world.enterprise.pk)
    assert (enterprise.name, enterprise.jurisdiction, enterprise.sector, enterprise.contact_name) == (
        "深圳市新安建材贸易有限公司", world.other_town, Sector.WHOLESALE_RETAIL, "王经理")
    stored = enterprise.events.get(verb="import_update").changes
    assert stored["sector"] == ["industry", "wholesale_retail"]  # the trail keeps the codes
    log = client.get(f"/enterprises/{enterprise.credit_code}/").content.decode()
    assert "行业门类：工业 → 批发零售业" in log
    assert "所在镇街园区：南头街道 → 新安街道" in log
    assert "企业名称：深圳市南头精密制造有限公司 → 深圳市新安建材贸易有限公司" in log
    assert "wholesale_retail" not in log


def test_accepting_one_row_leaves_the_other_renames_skipped(world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    job = upload(client, book([takeover_row(world), [
        "深圳市南山餐饮集团有限公司", world.neighbour.credit_code, "H6210", "南头街道", "", ""]]),
        django_capture_on_commit_callbacks)
    assert job.move_rows == 2
    job = confirm(client, job, django_capture_on_commit_callbacks, accept="3")
    assert (job.updated_count, job.skipped_count) == (1, 1)
    assert Enterprise.objects.get(pk=world.enterprise.pk).name == "深圳市南头精密制造有限公司"
    assert Enterprise.objects.get(pk=world.neighbour.pk).name == "深圳市南山餐饮集团有限公司"


def test_other_changes_are_shown_and_applied_without_a_choice(world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    row = [world.enterprise.name, world.enterprise.credit_code, "C3311", "南头街道", "王经理", ""]
    job = upload(client, book([row]), django_capture_on_commit_callbacks)
    assert (job.update_rows, job.move_rows) == (1, 0)
    page = client.get(f"/enterprises/imports/{job.pk}/").content.decode()
    assert "联系人：林总 → <strong>王经理</strong>" in page and "更名/迁址须确认" not in page
    job = confirm(client, job, django_capture_on_commit_callbacks)
    assert (job.updated_count, job.skipped_count) == (1, 0)
    enterprise = Enterprise.objects.get(pk=world.enterprise.pk)
    assert (enterprise.contact_name, enterprise.contact_phone) == ("王经理", "13800000001")  # blank keeps


def test_an_identical_row_is_unchanged_and_writes_nothing(world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    same = [world.enterprise.name, world.enterprise.credit_code, "工业", "南头街道", "林总", "13800000001"]
    job = upload(client, book([same], headers=["企业名称", "统一社会信用代码", "行业门类", "所属镇街", "联系人",
                                              "联系电话"]), django_capture_on_commit_callbacks)
    assert (job.new_rows, job.update_rows, job.unchanged_rows) == (0, 0, 1)
    assert job.preview[0]["kind_label"] == "无变化"
    before = Enterprise.objects.get(pk=world.enterprise.pk).updated_at
    job = confirm(client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.created_count, job.updated_count) == ("done", 0, 0)
    assert "无变化1家" in job.message
    assert not EnterpriseEvent.objects.exists()
    assert Enterprise.objects.get(pk=world.enterprise.pk).updated_at == before


def _existing(world, n: int, offset: int = 0) -> list:
    """n registered enterprises and a sheet row for each that renames, moves and re-files it."""
    rows = []
    for i in range(offset, offset + n):
        Enterprise.objects.create(name=f"深圳市南头批量{i:03d}有限公司", credit_code=code(100 + i),
                                  sector=Sector.INDUSTRY, industry_code="C3311", jurisdiction=world.town,
                                  contact_name="林经理")
        rows.append([f"深圳市新安批量{i:03d}贸易有限公司", code(100 + i), "F5165", "新安街道", "王经理",
                     "13900000009", 2025, 50, 3000])
    return rows


def test_the_preview_costs_the_same_queries_for_5_or_60_existing_enterprises(world, tmp_path):
    headers = [*HEADERS, "年份", "从业人员", "营业收入（万元）"]
    counts = []
    for n, offset in ((5, 0), (60, 5)):
        path = tmp_path / f"{n}.xlsx"
        path.write_bytes(book(_existing(world, n, offset), headers=headers))
        with CaptureQueriesContext(connection) as queries:
            report = services.check_import(world.admin, path).report
        assert (report.update_rows, report.move_rows, len(report.changes)) == (n, n, n)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_job_page_costs_the_same_queries_for_5_or_60_changes(world, django_capture_on_commit_callbacks):
    client = login(world.admin)
    client.get("/enterprises/imports/")  # the working-day calendar is read once per process, then cached
    counts = []
    for n, offset in ((5, 0), (60, 5)):
        job = upload(client, book([r[:6] for r in _existing(world, n, offset)]), django_capture_on_commit_callbacks)
        assert job.move_rows == n
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/enterprises/imports/{job.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_dispatcher_can_neither_change_nor_move_enterprises_outside_their_district(
        world, django_capture_on_commit_callbacks):
    client = login(world.dispatcher)
    outside = ["深圳市宝安物流有限公司", world.other_enterprise.credit_code, "G5431", "南头街道", "", ""]
    moved_out = [world.enterprise.name, world.enterprise.credit_code, "C3311", "新安街道", "", ""]
    fine = ["深圳市南头新开五金有限公司", code(1), "C3311", "南头街道", "", ""]
    job = upload(client, book([outside, moved_out, fine]), django_capture_on_commit_callbacks)
    assert (job.status, job.error_rows, job.new_rows, job.update_rows) == ("invalid", 2, 1, 0)
    assert [r["kind_label"] for r in job.preview] == ["错误", "错误", "新增"]
    assert [e["message"] for e in job.errors] == ["该企业已在企业库中登记，属于新安街道，不在您的管辖范围内",
                                                  "“新安街道”不在您的管辖范围内"]
    job = confirm(client, job, django_capture_on_commit_callbacks, partial="1", accept_all="1")
    assert (job.status, job.created_count, job.updated_count) == ("done", 1, 0)
    assert Enterprise.objects.get(pk=world.other_enterprise.pk).name == "深圳市新安物流有限公司"
    assert Enterprise.objects.get(pk=world.enterprise.pk).jurisdiction == world.town


def test_the_import_command_skips_renames_unless_told_to_accept_them(world, tmp_path, capsys):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(book([takeover_row(world)]))
    call_command("import_enterprises", str(path))
    err = capsys.readouterr().err
    assert "第2行 深圳市南头精密制造有限公司 未导入（企业名称：深圳市南头精密制造有限公司 → 深圳市新安建材贸易有限公司" in err
    assert "--accept-renames" in err
    assert Enterprise.objects.get(pk=world.enterprise.pk).name == "深圳市南头精密制造有限公司"
    call_command("import_enterprises", str(path), "--accept-renames")
    assert Enterprise.objects.get(pk=world.enterprise.pk).name == "深圳市新安建材贸易有限公司"


def test_the_change_log_reads_existing_entries_in_labels(world):
    EnterpriseEvent.objects.create(
        enterprise=world.enterprise, verb=EnterpriseEvent.Verb.IMPORT_UPDATE, note="旧记录",
        changes={"sector": ["industry", "wholesale_retail"], "jurisdiction_id": [world.town.pk, world.other_town.pk],
                 "is_four_above": [True, False], "size": ["", "small"], "industry_code": ["", "C3311"],
                 "service_specialist_id": [None, world.specialist.pk],
                 "figures": [None, {"year": 2025, "employees": 350, "revenue": "2500.00"}]})
    log = login(world.admin).get(f"/enterprises/{world.enterprise.credit_code}/").content.decode()
    for text in ("行业门类：工业 → 批发零售业", "所在镇街园区：南头街道 → 新安街道", "四上企业：是 → 否",
                 "规模：空 → 小型", "国民经济行业代码：空 → C3311 金属结构制造", "为企服务专员：冯专员",
                 "年度数据：2025年 从业人员350人，营业收入2500万元"):
        assert text in log
    assert "wholesale_retail" not in log and "True" not in log


def test_one_event_reads_its_changes_in_labels_too(world):
    event = EnterpriseEvent.objects.create(enterprise=world.enterprise, verb=EnterpriseEvent.Verb.CLASSIFY,
                                           changes={"size": ["micro", "small"], "is_four_above": [False, True]})
    assert event.readable_changes() == [("规模", "微型", "小型"), ("四上企业", "否", "是")]
