"""The one row-cleaning function shared by the importer, the forms and the API."""

import csv
from decimal import Decimal

import pytest

from qinqing.enterprises.rows import RowCleaner, field_for_header
from tests.conftest import DATA, real_codes

NAMED = list(csv.DictReader((DATA / "uscc_gb32100" / "uscc_named_testcases.csv").open(encoding="utf-8")))


def row(world, **raw):
    base = {"name": "深圳市测试精密制造有限公司", "credit_code": real_codes()[10], "industry_code": "C3311",
            "jurisdiction": "南头街道"}
    return RowCleaner(None).clean({**base, **raw})


def test_a_bad_character_in_the_credit_code_is_named_with_its_position(world):
    problems = row(world, credit_code="91350211M0000XUI46").problems
    assert problems["credit_code"] == "统一社会信用代码第16位“I”不是合法字符（不使用I、O、Z、S、V）。"


def test_a_wrong_check_character_names_the_expected_one(world):
    problems = row(world, credit_code="91350100M000100Y4Z").problems
    assert "第18位应为“3”，实为“Z”" in problems["credit_code"]


@pytest.mark.parametrize("case", [c for c in NAMED if c["category"] == "real_nonconforming" and "expect" in
                                  c["expected_gb32100_checksum"]], ids=lambda c: c["code"])
def test_real_pilot_codes_that_fail_the_checksum_are_refused_without_an_override(world, case):
    expected = case["expected_gb32100_checksum"].split("expect ")[1][0]
    assert f"第18位应为“{expected}”" in row(world, credit_code=case["code"]).problems["credit_code"]


def test_lower_case_and_full_width_codes_are_normalised(world):
    code = "91440300708461136T"  # 深圳市腾讯计算机系统有限公司
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code.lower())
    for typed in (code.lower(), full_width, f" {code[:9]} {code[9:]} "):
        clean = row(world, credit_code=typed)
        assert clean.ok, clean.problems
        assert clean.values["credit_code"] == code


def test_a_code_excel_turned_into_a_number_is_refused_with_the_reason(world):
    problems = row(world, credit_code=("n", "9.14403001922038E+17")).problems
    assert "存成了数字" in problems["credit_code"]


def test_industry_codes_take_every_usual_spelling_and_give_the_sector(world):
    for typed in ("C3311", "3311", "c 3311", "３３１１", "C3311 金属结构制造", "金属结构制造"):
        clean = row(world, industry_code=typed)
        assert clean.ok, (typed, clean.problems)
        assert clean.values["industry_code"] == "C3311"
        assert clean.values["sector"] == "industry"


def test_industry_codes_must_exist_and_reach_at_least_a_division(world):
    assert "不是 GB/T 4754-2017" in row(world, industry_code="9999").problems["industry_code"]
    assert "至少细到大类" in row(world, industry_code="C").problems["industry_code"]
    assert "属于门类F" in row(world, industry_code="C5165").problems["industry_code"]


def test_the_sector_follows_the_gbt4754_section_as_data(world):
    expected = {"A0143": "agriculture", "B0610": "industry", "D4411": "industry", "E4710": "construction",
                "F5212": "wholesale_retail", "G5431": "transport", "H6210": "hospitality", "K7010": "real_estate",
                "I6513": "services", "J6621": "services"}
    for code, sector in expected.items():
        assert row(world, industry_code=code).values["sector"] == sector


def test_a_sector_that_contradicts_the_industry_code_is_refused(world):
    problems = row(world, industry_code="C3311", sector="建筑业").problems
    assert problems["sector"] == "行业代码C3311属于“工业”，与所填“建筑业”不一致"


def test_the_division_comes_from_the_credit_code_when_not_given(world):
    clean = row(world, credit_code="91440300708461136T")
    from qinqing.enterprises.models import Division

    assert Division.objects.get(pk=clean.defaults["division_id"]).name == "深圳市"


def test_text_beginning_with_equals_and_formulas_are_refused(world):
    assert "公式" in row(world, address="=HYPERLINK(\"http://x\")").problems["address"]
    assert "公式" in row(world, employees=("f", "=SUM(A1:A3)")).problems["employees"]


def test_a_cell_over_a_thousand_characters_is_refused(world):
    assert "1000字" in row(world, address="长" * 1001).problems["address"]


def test_figures_need_a_year_and_are_read_in_wan_yuan(world):
    assert "须填写年份" in row(world, revenue="2,500").problems["year"]
    clean = row(world, year=2025, revenue="2,500.5", employees="350人", assets=("n", "1200"))
    assert clean.figures == {"year": 2025, "revenue": Decimal("2500.50"), "employees": 350,
                             "assets": Decimal("1200.00")}
    assert row(world, year=2025, employees="12.5").problems["employees"] == "应为整数"
    assert row(world, year=2025, revenue="-3").problems["revenue"] == "不能为负数"


def test_a_money_header_in_yuan_is_converted_to_wan_yuan():
    assert field_for_header("营业收入（元）") == ("revenue", Decimal("0.0001"))
    assert field_for_header("主营业务收入 (万元)") == ("revenue", Decimal(1))
    assert field_for_header("单位名称*") == ("name", Decimal(1))
    assert field_for_header("备注")[0] is None


def test_tags_must_be_in_the_configured_list(world):
    assert row(world, tags="专精特新、高新技术企业").values["tags"] == ["专精特新", "高新技术企业"]
    assert "不在标签库中" in row(world, tags="专精特新，独角兽").problems["tags"]


def test_a_town_is_found_by_name_or_code_and_only_within_the_users_scope(world):
    assert row(world, jurisdiction="440305001").values["jurisdiction"] == world.town
    outsider = RowCleaner(world.other_dispatcher).clean({"jurisdiction": "南头街道"}, existing=True)
    assert outsider.problems["jurisdiction"] == "“南头街道”不在您的管辖范围内"


def test_a_new_enterprise_needs_name_code_sector_and_place(world):
    problems = RowCleaner(None).clean({"contact_name": "王经理"}).problems
    assert problems == {"name": "必填", "credit_code": "必填", "sector": "请填写行业代码或行业门类",
                        "jurisdiction": "请填写所属镇街园区"}
