"""Size (大中小微) and 四上 status, with cases taken from the statistics bureau's tables themselves."""

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from qinqing.enterprises.classify import Classifier, Figures
from qinqing.enterprises.reference import size_rule_rows

DATA = Path(__file__).resolve().parent.parent / "qinqing" / "enterprises" / "data"
INDICATORS = {"从业人员": "employees", "营业收入": "revenue", "资产总额": "assets"}


def size_table() -> dict[str, dict[str, dict[str, Decimal]]]:
    """industry → indicator → {tier: lower bound}, read straight from size_thresholds_2017.csv."""
    table: dict = {}
    with (DATA / "size_thresholds_2017.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            bounds = {"large": re.search(r">=([\d.]+)$", row["large"]).group(1),
                      "medium": re.match(r"([\d.]+)<=", row["medium"]).group(1),
                      "small": re.match(r"([\d.]+)<=", row["small"]).group(1)}
            indicator = INDICATORS[row["indicator"].split("(")[0]]
            table.setdefault(row["industry"].rstrip("*"), {})[indicator] = {k: Decimal(v) for k, v in bounds.items()}
    return table


SCOPES = {r["name"]: r["codes"].split()[0] for r in size_rule_rows()}
TABLE = size_table()


def a_code_of(industry: str) -> str:
    """A real GB/T 4754 小类 under the industry's first code prefix (e.g. 工业 → B…)."""
    from qinqing.enterprises.models import IndustryCode

    return IndustryCode.objects.filter(code__startswith=SCOPES[industry], level="class").order_by("code")[0].code


def figures_at(bounds: dict, tier: str, **minus_one) -> Figures:
    values = {ind: tiers[tier] - (1 if ind in minus_one else 0) for ind, tiers in bounds.items()}
    return Figures(employees=int(values["employees"]) if "employees" in values else None,
                   revenue=values.get("revenue"), assets=values.get("assets"))


CASES = [(industry, tier) for industry in TABLE for tier in ("large", "medium", "small")]


@pytest.mark.parametrize(("industry", "tier"), CASES, ids=[f"{i}-{t}" for i, t in CASES])
def test_meeting_every_lower_bound_of_a_tier_gives_that_tier(db, industry, tier):
    classifier = Classifier.load()
    assert classifier.size(a_code_of(industry), figures_at(TABLE[industry], tier)) == tier


@pytest.mark.parametrize(("industry", "tier"), CASES, ids=[f"{i}-{t}" for i, t in CASES])
def test_missing_one_lower_bound_drops_a_tier(db, industry, tier):
    classifier = Classifier.load()
    below = {"large": "medium", "medium": "small", "small": "micro"}[tier]
    for indicator in TABLE[industry]:
        figures = figures_at(TABLE[industry], tier, **{indicator: True})
        assert classifier.size(a_code_of(industry), figures) == below, indicator


def test_an_industrial_firm_with_many_people_but_little_revenue_is_small(db):
    # 工业: 1000 people but 300万 revenue meets only the small tier's revenue bound.
    assert Classifier.load().size("C3311", Figures(employees=1000, revenue=Decimal(300))) == "small"


def test_size_is_unknown_without_a_figure_the_rule_needs_or_outside_the_rules(db):
    classifier = Classifier.load()
    assert classifier.size("C3311", Figures(employees=500)) == ""  # 工业 needs revenue too
    assert classifier.size("J6621", Figures(employees=500, revenue=Decimal(1), assets=Decimal(1))) == ""  # 金融业


def test_the_longest_code_prefix_picks_the_rule(db):
    classifier = Classifier.load()
    assert classifier.size_rule("G5910").name == "交通运输业"  # 装卸搬运
    assert classifier.size_rule("G5920").name == "仓储业"
    assert classifier.size_rule("K7010").name == "房地产开发经营"
    assert classifier.size_rule("K7020").name == "物业管理"
    assert classifier.size_rule("K7040") is None  # 房地产租赁经营 is not in the 2017 table


def four_above_cases():
    """(code, revenue at the threshold, rule name) from four_above_rules.csv, the threshold from the source CSV."""
    with (DATA / "four_above_thresholds.csv").open(encoding="utf-8") as fh:
        source = {r["category"]: r["threshold"] for r in csv.DictReader(fh)}
    cases = [("C3311", source["规模以上工业"], "规模以上工业"), ("F5165", source["限额以上批发业"], "限额以上批发业"),
             ("F5212", source["限额以上零售业"], "限额以上零售业"),
             ("H6210", source["限额以上住宿和餐饮业"], "限额以上住宿和餐饮业"),
             ("G5431", source["规模以上服务业 (tier A)"], "规模以上服务业（一档）"),
             ("M7452", source["规模以上服务业 (tier B)"], "规模以上服务业（二档）"),
             ("O8111", source["规模以上服务业 (tier C)"], "规模以上服务业（三档）")]
    return [(code, Decimal(re.search(r">=(\d+)万元", text).group(1)), name) for code, text, name in cases]


@pytest.mark.parametrize(("code", "threshold", "rule"), four_above_cases(), ids=lambda v: str(v))
def test_four_above_starts_exactly_at_the_revenue_threshold(db, code, threshold, rule):
    classifier = Classifier.load()
    assert classifier.four_above(code, Figures(revenue=threshold)) == (True, rule)
    assert classifier.four_above(code, Figures(revenue=threshold - Decimal("0.01"))) == (False, "")


def test_construction_counts_with_a_qualification_and_real_estate_development_always(db):
    classifier = Classifier.load()
    assert classifier.four_above("E4710", Figures(revenue=Decimal(50000)))[0] is False
    assert classifier.four_above("E4710", Figures(revenue=Decimal(10)), "施工总承包二级") == (True, "有资质的建筑业")
    assert classifier.four_above("K7010", Figures(revenue=Decimal(0))) == (True, "房地产开发经营业")
    assert classifier.four_above("J6621", Figures(revenue=Decimal(10**6)))[0] is False  # 金融业 is not 四上


def test_the_thresholds_are_configuration_an_administrator_can_change(db):
    from qinqing.enterprises.models import FourAboveRule

    FourAboveRule.objects.filter(name="规模以上工业").update(min_revenue=Decimal(3000))
    assert Classifier.load().four_above("C3311", Figures(revenue=Decimal(2500)))[0] is False
    # The older services rule: revenue OR people.
    FourAboveRule.objects.filter(name="规模以上服务业（二档）").update(min_employees=50)
    assert Classifier.load().four_above("M7452", Figures(revenue=Decimal(10), employees=50))[0] is True
