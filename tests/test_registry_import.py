"""Excel import: headers as staff write them, every row checked first, all or nothing, an error workbook
that marks each bad cell, re-imports that update, and hostile files refused in bounded memory."""

import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from qinqing.demands.errors import PermissionDeniedError
from qinqing.enterprises import services
from qinqing.enterprises.errors import RefusedFile
from qinqing.enterprises.models import Enterprise, EnterpriseEvent, YearlyFigures
from qinqing.lib.uscc import make_code
from qinqing.visits import services as visits
from qinqing.visits.models import Assignment, Duty, Level
from tests.conftest import real_codes

HEADERS = ["单位名称", "社会信用代码", "国民经济行业代码", "镇街", "职工人数", "主营业务收入（万元）", "资产总额",
           "年份", "联系人", "联系电话", "标签"]


def code(n: int) -> str:
    return make_code(f"914403057{n:08d}")


def good_row(n: int, **changes) -> list:
    values = {"单位名称": f"深圳市南头第{n}精密制造有限公司", "社会信用代码": code(n), "国民经济行业代码": "3311",
              "镇街": "南头街道", "职工人数": 350, "主营业务收入（万元）": 2500, "资产总额": 1800, "年份": 2025,
              "联系人": "林经理", "联系电话": "13800000000", "标签": "专精特新"}
    values.update(changes)
    return [values[h] for h in HEADERS]


def workbook(tmp_path, rows, headers=HEADERS, title=None, name="名单.xlsx"):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    path = tmp_path / name
    book.save(path)
    return path


def test_a_clean_file_is_imported_with_its_figures_size_and_four_above_status(world, tmp_path):
    path = workbook(tmp_path, [good_row(1), good_row(2, 职工人数=10, **{"主营业务收入（万元）": 100})],
                    title="2025年南山区重点企业名单")
    report = services.import_enterprises(world.admin, path)
    assert (report.created, report.updated, report.header_row) == (2, 0, 2)
    first = Enterprise.objects.get(credit_code=code(1))
    assert (first.industry_code, first.sector, first.jurisdiction, first.tags) == (
        "C3311", "industry", world.town, ["专精特新"])
    assert (first.size, first.is_four_above, first.figures_year) == ("medium", True, 2025)
    second = Enterprise.objects.get(credit_code=code(2))
    assert (second.size, second.is_four_above) == ("micro", False)
    assert YearlyFigures.objects.get(enterprise=first, year=2025).four_above_rule == "规模以上工业"
    assert EnterpriseEvent.objects.filter(verb="import_create", actor=world.admin).count() == 2


def test_a_reimport_updates_the_enterprise_and_never_duplicates_it(world, tmp_path):
    services.import_enterprises(world.admin, workbook(tmp_path, [good_row(1)]))
    changed = good_row(1, 单位名称="深圳市南头精工有限公司", 联系电话="", **{"主营业务收入（万元）": 1500})
    report = services.import_enterprises(world.admin, workbook(tmp_path, [changed, good_row(2)], name="2.xlsx"),
                                         accept_moves=True)  # the rename is accepted explicitly
    assert (report.created, report.updated) == (1, 1)
    enterprise = Enterprise.objects.get(credit_code=code(1))
    assert enterprise.name == "深圳市南头精工有限公司"
    assert enterprise.contact_phone == "13800000000"  # an empty cell keeps what was there
    assert enterprise.is_four_above is False  # 1500万 is under the 2000万 line now
    assert Enterprise.objects.filter(credit_code=code(1)).count() == 1
    update = EnterpriseEvent.objects.get(enterprise=enterprise, verb="import_update")
    assert update.changes["name"] == ["深圳市南头第1精密制造有限公司", "深圳市南头精工有限公司"]
    assert update.changes["is_four_above"] == [True, False]


def test_a_reimport_of_an_existing_fixture_enterprise_keeps_one_row(world, tmp_path):
    row = good_row(1, 社会信用代码=world.enterprise.credit_code.lower(), 单位名称=world.enterprise.name)
    services.import_enterprises(world.admin, workbook(tmp_path, [row]))
    assert Enterprise.objects.filter(credit_code=world.enterprise.credit_code).count() == 1


def test_one_bad_row_means_nothing_is_imported_and_the_error_workbook_marks_each_bad_cell(world, tmp_path):
    bad = good_row(3, 社会信用代码="91350100M000100Y4Z", 国民经济行业代码="C5165", 职工人数="很多")
    path = workbook(tmp_path, [good_row(1), bad, good_row(2)])
    with pytest.raises(RefusedFile) as refused:
        services.import_enterprises(world.admin, path)
    assert "未导入任何数据" in refused.value.message
    assert not Enterprise.objects.filter(credit_code__in=[code(1), code(2)]).exists()

    importer = services.check_import(world.admin, path)
    out = tmp_path / "errors.xlsx"
    importer.write_error_workbook(out)
    book = load_workbook(out)
    sheet = book["错误标注"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["单位名称", "社会信用代码", "国民经济行业代码"]
    assert sheet.cell(1, len(HEADERS) + 1).value == "错误说明"
    bad_cells = {c.coordinate: c.comment.text for r in sheet.iter_rows() for c in r
                 if c.comment and c.fill.fgColor.rgb.endswith("FFC7CE")}
    assert set(bad_cells) == {"B3", "C3", "E3"}
    assert "第18位应为“3”" in bad_cells["B3"]
    assert "属于门类F" in bad_cells["C3"]
    assert "不是数字" in bad_cells["E3"]
    assert sheet["A2"].comment is None and sheet["A4"].comment is None  # good rows unmarked
    assert "社会信用代码：" in sheet.cell(3, len(HEADERS) + 1).value
    listing = [r for r in book["错误清单"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1]) for r in listing] == [(3, "B"), (3, "C"), (3, "E")]


def test_partial_mode_imports_the_valid_rows_only(world, tmp_path):
    path = workbook(tmp_path, [good_row(1), good_row(3, 镇街="火星镇"), good_row(2)])
    report = services.import_enterprises(world.admin, path, partial=True)
    assert (report.created, report.error_rows) == (2, 1)
    assert not Enterprise.objects.filter(credit_code=code(3)).exists()


def test_duplicate_codes_within_a_file_are_errors(world, tmp_path):
    importer = services.check_import(world.admin, workbook(tmp_path, [good_row(1), good_row(1)]))
    assert [e.message for e in importer.report.errors] == ["与第2行的统一社会信用代码重复"]


def test_an_accepted_nonconforming_code_imports(world, tmp_path):
    services.accept_nonconforming_code(world.admin, "91350211M0000XUF46", "营业执照原件核验，厦门早期试点代码")
    services.import_enterprises(world.admin, workbook(tmp_path, [good_row(1, 社会信用代码="91350211m0000xuf46")]))
    enterprise = Enterprise.objects.get(credit_code="91350211M0000XUF46")
    assert enterprise.credit_code_override.reason.startswith("营业执照")


def test_a_dispatcher_imports_only_within_their_district(world, tmp_path):
    path = workbook(tmp_path, [good_row(1, 镇街="新安街道"),
                               good_row(2, 社会信用代码=world.other_enterprise.credit_code)])
    importer = services.check_import(world.dispatcher, path)
    messages = {e.header: e.message for e in importer.report.errors}
    assert messages["镇街"] == "“新安街道”不在您的管辖范围内"
    assert "不在您的管辖范围内" in messages["社会信用代码"]
    with pytest.raises(PermissionDeniedError):
        services.check_import(world.handler, path)


def test_a_missing_required_column_or_header_is_refused_plainly(world, tmp_path):
    with pytest.raises(RefusedFile, match="缺少必填列：统一社会信用代码"):
        services.check_import(world.admin, workbook(tmp_path, [["某公司", "3311"]], headers=["企业名称", "行业代码"]))
    with pytest.raises(RefusedFile, match="找不到表头行"):
        services.check_import(world.admin, workbook(tmp_path, [["a", "b"]], headers=["甲", "乙"]))


# ---------------------------------------------------------------- hostile and malformed files

def minimal_xlsx(path, sheet_parts, compression=zipfile.ZIP_DEFLATED):
    """An .xlsx written part by part, so a test can make a sheet no spreadsheet program would."""
    content_types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                     'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
    workbook_xml = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://'
                    'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" '
                    'sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("xl/workbook.xml", workbook_xml)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for part in sheet_parts:
                fh.write(part)
            fh.write(b"</sheetData></worksheet>")
    return path


def inline_row(number: int, values: list[str]) -> bytes:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'.encode()


def test_a_file_that_is_not_an_xlsx_is_refused(world, tmp_path):
    csv_file = tmp_path / "名单.xlsx"
    csv_file.write_text("企业名称,统一社会信用代码\n", encoding="utf-8")
    with pytest.raises(RefusedFile, match="不是 Excel 工作簿"):
        services.check_import(world.admin, csv_file)
    xls = tmp_path / "old.xlsx"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(RefusedFile, match="旧版 Excel"):
        services.check_import(world.admin, xls)
    docx = tmp_path / "word.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(RefusedFile, match="缺少工作簿结构"):
        services.check_import(world.admin, docx)


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated(world, tmp_path):
    zeros = (b"<row/>" * 1000 for _ in range(5000))  # 30 MB of the same bytes: ratio far beyond a real sheet
    bomb = minimal_xlsx(tmp_path / "bomb.xlsx", zeros)
    assert bomb.stat().st_size < 300_000
    with pytest.raises(RefusedFile, match="压缩炸弹"):
        services.check_import(world.admin, bomb)


def test_a_file_too_big_once_uncompressed_is_refused(world, tmp_path, settings):
    settings.QINQING_IMPORT_LIMITS = {"max_uncompressed_bytes": 1024 * 1024}
    rows = (inline_row(n, [f"企业{n}", code(n)]) for n in range(1, 20000))
    with pytest.raises(RefusedFile, match="超过1MB的上限"):
        services.check_import(world.admin, minimal_xlsx(tmp_path / "big.xlsx", rows))


def test_too_many_rows_are_refused_without_reading_them_all(world, tmp_path, settings):
    settings.QINQING_IMPORT_LIMITS = {"max_rows": 100}
    rows = (inline_row(n, [f"企业{n}", code(n)]) for n in range(1, 5000))
    with pytest.raises(RefusedFile, match="超过100行的上限"):
        services.check_import(world.admin, minimal_xlsx(tmp_path / "many.xlsx", [inline_row(1, ["企业名称", "统一社会信用代码", "所属镇街"]), *rows]))


def test_a_million_formatted_empty_rows_end_the_data_quickly(world, tmp_path):
    header = inline_row(1, ["企业名称", "统一社会信用代码", "所属镇街", "行业代码"])
    data = [inline_row(2, ["深圳市甲公司", code(1), "南头街道", "C3311"]),
            inline_row(3, ["深圳市乙公司", code(2), "南头街道", "C3311"])]
    empty = (f'<row r="{n}"><c r="A{n}" s="1"/><c r="B{n}" s="1"/></row>'.encode() for n in range(4, 1_000_004))
    path = minimal_xlsx(tmp_path / "empty.xlsx", [header, *data, *empty])
    started = time.perf_counter()
    report = services.import_enterprises(world.admin, path)
    assert time.perf_counter() - started < 10
    assert (report.total_rows, report.created) == (2, 2)
    assert "视为数据结束" in report.warnings[0]


def test_data_after_a_long_blank_stretch_is_not_read_and_the_report_says_so(world, tmp_path):
    header = inline_row(1, ["企业名称", "统一社会信用代码", "所属镇街", "行业代码"])
    first = inline_row(2, ["深圳市甲公司", code(1), "南头街道", "C3311"])
    far = inline_row(5000, ["深圳市乙公司", code(2), "南头街道", "C3311"])
    importer = services.check_import(world.admin, minimal_xlsx(tmp_path / "gap.xlsx", [header, first, far]))
    assert importer.report.total_rows == 1
    assert "其后的内容未读取" in importer.report.warnings[0]


def test_formula_cells_and_huge_cells_are_marked_not_evaluated(world, tmp_path):
    path = workbook(tmp_path, [good_row(1, 职工人数="=B2*2", 联系人="长" * 1200)])
    importer = services.check_import(world.admin, path)
    messages = {e.header: e.message for e in importer.report.errors}
    assert "公式" in messages["职工人数"]
    assert "1000字" in messages["联系人"]


def test_an_encrypted_or_corrupt_zip_is_refused(world, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(RefusedFile, match="已损坏"):
        services.check_import(world.admin, broken)


def test_the_import_command_writes_the_error_workbook_and_refuses(world, tmp_path):
    from django.core.management import CommandError, call_command

    path = workbook(tmp_path, [good_row(1), good_row(2, 国民经济行业代码="X")])
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_enterprises", str(path), "--user", "admin")
    assert (tmp_path / "名单_错误标注.xlsx").exists()
    call_command("import_enterprises", str(path), "--partial")
    assert Enterprise.objects.filter(credit_code=code(1)).exists()


def test_real_codes_from_the_reference_list_import(world, tmp_path):
    rows = [good_row(i, 社会信用代码=c, 单位名称=f"企业{i}") for i, c in enumerate(real_codes()[20:60])]
    report = services.import_enterprises(world.admin, workbook(tmp_path, rows))
    assert report.created == 40


def test_an_import_names_each_enterprises_specialist_and_a_reimport_moves_it(world, tmp_path):
    headers = [*HEADERS, "为企服务专员"]
    services.import_enterprises(world.admin, workbook(tmp_path, [[*good_row(1), "冯专员"], good_row(2) + [""]],
                                                      headers=headers))
    first, second = Enterprise.objects.get(credit_code=code(1)), Enterprise.objects.get(credit_code=code(2))
    assert (first.service_specialist, second.service_specialist) == (world.specialist, None)

    report = services.import_enterprises(world.admin, workbook(tmp_path, [[*good_row(1), "dispatcher"]],
                                                               headers=headers, name="调整.xlsx"))
    first = Enterprise.objects.get(credit_code=code(1))
    assert report.updated == 1 and first.service_specialist == world.dispatcher
    assert first.events.get(verb="import_update").changes == {
        "service_specialist_id": [world.specialist.pk, world.dispatcher.pk]}


def test_an_import_that_names_a_registered_cadre_starts_their_assignment(world, tmp_path):
    cadre = visits.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST)
    services.import_enterprises(world.admin, workbook(tmp_path, [[*good_row(1), "冯专员"]],
                                                      headers=[*HEADERS, "为企服务专员"]))
    held = Assignment.objects.current().get(enterprise__credit_code=code(1), duty=Duty.SPECIALIST)
    assert (held.cadre, held.rule, held.assigned_by) == (cadre, "企业库修改", world.admin)
