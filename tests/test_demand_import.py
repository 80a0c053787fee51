"""Excel in for demands: a 12345 sheet or an old ledger is checked row by row, all or nothing, with an error
list to download; headers are recognised through their aliases; importing the same sheet again writes nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.demands.importer import check_demand_import, header_key, import_demands
from qinqing.demands.models import Demand, DemandEvent, Outcome, State
from qinqing.reports import rates
from qinqing.transparency.models import DemandSource

from .conftest import at

HOTLINE_HEADERS = ["工单编号", "来电时间", "来电内容", "企业名称", "统一社会信用代码", "承办单位", "办理结果",
                   "答复内容", "办结时间", "满意度"]


def sheet(tmp_path, headers, rows, name="工单.xlsx", title=None):
    book = Workbook()
    ws = book.active
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def hotline_rows(world):
    code = world.enterprise.credit_code
    return [
        ["GD2026050001", "2026-05-06 09:12", "企业反映用工缺口约20人，希望协助对接职业院校。", world.enterprise.name, code,
         "南山区人力资源局", "已解决", "已组织两场专场招聘会，企业招到18人。", "2026-05-20 16:00", "满意"],
        ["GD2026050002", "2026-05-07 14:30", "申请稳岗返还一直未到账，请帮助查询。", "", "",
         "南山区人力资源局", "已解释说明", "经查已于5月15日拨付，企业已确认。", "2026-05-16 10:00", "基本满意"],
        ["GD2026110003", "2026-11-30 10:00", "厂区门前道路破损严重，货车通行困难。", world.enterprise.name, code,
         "南山区人力资源局", "", "", "", ""],
        ["GD2026120004", "2026-12-02 08:40", "希望了解首贷贴息政策的申报条件。", "未登记的小微企业", "",
         "", "", "", "", ""],
    ]


def test_a_12345_sheet_with_its_own_headers_is_received_closed_history_and_all(world, tmp_path):
    path = sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world), title="2026年12345政务服务热线企业诉求工单")
    report = import_demands(world.dispatcher, path)
    assert (report.created, report.closed, report.dispatched) == (4, 2, 1)

    first = Demand.objects.get(import_source__source_number="GD2026050001")
    assert first.received_at == at("2026-05-06 09:12")
    assert first.enterprise == world.enterprise and first.channel == "hotline"
    assert first.state == State.CLOSED and first.outcome == Outcome.SOLVED
    assert first.lead_unit == world.bureau and first.replied_at == at("2026-05-20 16:00")
    assert first.evaluation == "satisfied" and first.next_due is None
    verbs = list(first.events.values_list("verb", flat=True))
    assert verbs == ["receive", "import_history"]

    second = Demand.objects.get(import_source__source_number="GD2026050002")
    assert second.enterprise is None and second.reporter_name == "匿名"

    open_one = Demand.objects.get(import_source__source_number="GD2026110003")
    assert open_one.state == State.DISPATCHED and open_one.lead_unit == world.bureau

    unregistered = Demand.objects.get(import_source__source_number="GD2026120004")
    assert unregistered.state == State.RECEIVED and unregistered.reporter_name == "未登记的小微企业"
    assert unregistered.jurisdiction == world.district


def test_imported_history_counts_in_the_rates_like_any_reply(world, tmp_path):
    import_demands(world.dispatcher, sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world)[:2]))
    counts = rates.live(Demand.objects.all(), at("2026-05-01 00:00").date(), at("2026-05-31 00:00").date(),
                        at("2026-12-03 10:00").date()).counts
    assert counts["n"] == 2 and counts["reply_done"] == 2 and counts["reply_ontime"] == 2
    assert counts["satisfied"] == 2 and counts["evaluated"] == 2
    assert counts["dispatch_done"] == 0  # nobody dispatched these through the 1231 clock: not counted as on time


def test_a_second_import_of_the_same_sheet_writes_nothing_new(world, tmp_path):
    path = sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world))
    import_demands(world.dispatcher, path)
    demands, events = Demand.objects.count(), DemandEvent.objects.count()

    again = import_demands(world.dispatcher, path)
    assert again.known_rows == 4 and again.created == 0
    assert (Demand.objects.count(), DemandEvent.objects.count()) == (demands, events)


def test_one_bad_row_writes_nothing_and_the_error_list_names_row_column_and_reason(world, tmp_path):
    rows = hotline_rows(world)
    rows[1][1] = "五月七日"  # not a date
    rows[2][4] = "91440300MA5XXXXXX1"  # a credit code with a wrong check digit
    rows[3][0] = "GD2026050001"  # the first row's number again
    path = sheet(tmp_path, HOTLINE_HEADERS, rows)

    with pytest.raises(DomainError, match="未导入任何数据") as caught:
        import_demands(world.dispatcher, path)
    assert Demand.objects.count() == 0 and DemandSource.objects.count() == 0

    out = io.BytesIO()
    importer = check_demand_import(world.dispatcher, path)
    assert caught.value.report.error_rows == importer.report.error_rows == 3
    importer.write_error_workbook(out)
    listed = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    assert listed[0] == ("行号", "列", "列名", "错误原因")
    assert ("3", "B", "来电时间") == tuple(str(v) for v in listed[1][:3]) and "日期" in listed[1][3]
    assert listed[2][:3] == (4, "E", "统一社会信用代码") and "校验位" in listed[2][3]
    assert listed[3][:3] == (5, "A", "工单编号") and "第2行" in listed[3][3]


def test_a_finished_row_without_its_reply_time_or_unit_is_refused(world, tmp_path):
    rows = hotline_rows(world)[:1]
    rows[0][5], rows[0][8] = "", ""
    importer = check_demand_import(world.dispatcher, sheet(tmp_path, HOTLINE_HEADERS, rows))
    assert {e.header for e in importer.report.errors} == {"承办单位", "办结时间"}


def test_ledger_headers_are_read_through_their_aliases():
    assert header_key("诉求编号") == header_key("来电编号") == header_key("工单编号（必填）") == "source_number"
    assert header_key("受理时间") == header_key("来电时间 *") == "received_at"
    assert header_key("诉求内容") == header_key("来电内容") == "content"
    assert header_key("办结时间") == header_key("答复时间") == "replied_at"
    assert header_key("备注") is None


def test_a_sheet_without_a_source_number_column_is_refused_by_name(world, tmp_path):
    path = sheet(tmp_path, ["受理时间", "诉求内容"], [["2026-05-06", "用工难"]])
    with pytest.raises(DomainError, match="缺少必填列：来源编号"):
        import_demands(world.dispatcher, path)


def test_only_dispatchers_and_administrators_import_and_only_within_their_district(world, tmp_path):
    path = sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world)[:1])
    with pytest.raises(PermissionDeniedError):
        import_demands(world.handler, path)
    importer = check_demand_import(world.other_dispatcher, path)
    assert [e.header for e in importer.report.errors] == ["统一社会信用代码", "承办单位"]


def test_the_command_imports_and_writes_the_error_list_next_to_a_bad_file(world, tmp_path):
    good = sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world)[:2], name="good.xlsx")
    call_command("import_demands", str(good), "--user", "dispatcher")
    assert Demand.objects.count() == 2
    rows = hotline_rows(world)[2:]
    rows[0][2] = ""
    bad = sheet(tmp_path, HOTLINE_HEADERS, rows, name="bad.xlsx")
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_demands", str(bad), "--user", "dispatcher")
    assert (tmp_path / "bad_错误清单.xlsx").exists() and Demand.objects.count() == 2
