"""Loading the official tables shipped in qinqing/enterprises/data/ (see SOURCE.txt there).

The loaders take the model classes as arguments so that migration 0003 can pass its historical models
and `manage.py load_registry_reference` the current ones. They are idempotent: rows are matched by code
or name and only missing ones are created, so an administrator's edits survive a reload.
"""

import csv
import re
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# GB/T 4754-2017 门类 → the seed's statistical groups (Sector values). Stored per node as data.
SECTION_SECTORS = {
    "A": "agriculture",
    "B": "industry", "C": "industry", "D": "industry",
    "E": "construction",
    "F": "wholesale_retail",
    "G": "transport",
    "H": "hospitality",
    "K": "real_estate",
}
DEFAULT_SECTOR = "services"
LEVELS = {"门类": "section", "大类": "division", "中类": "group", "小类": "class"}

DEFAULT_TAGS = [
    ("专精特新", "省级及以上专精特新中小企业"),
    ("专精特新“小巨人”", "国家级专精特新“小巨人”企业"),
    ("高新技术企业", "经认定的高新技术企业"),
    ("科技型中小企业", "入库的科技型中小企业"),
    ("民营500强", "全国或省民营企业500强"),
    ("规上工业", "规模以上工业企业（人工标注）"),
    ("外资企业", "外商投资企业"),
    ("上市企业", "境内外上市企业"),
]


def sector_for(code: str) -> str:
    return SECTION_SECTORS.get(code[:1], DEFAULT_SECTOR)


def industry_rows() -> list[dict]:
    """The 1,970 nodes with their 门类 letter prepended, parents before children."""
    with (DATA / "gbt4754_2017_codes.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        section, number = row["section"], row["code"].strip()
        code = number if number == section else section + number
        parent = row["parent"].strip()
        parent_code = "" if not parent else (parent if parent == section else section + parent)
        out.append({"code": code, "name": row["name"].strip(), "level": LEVELS[row["level"]],
                    "parent": parent_code, "remark": row["remark"].strip()})
    return out


def load_industries(IndustryCode) -> int:
    existing = set(IndustryCode.objects.values_list("code", flat=True))
    created = 0
    ids: dict[str, int] = dict(IndustryCode.objects.values_list("code", "pk"))
    for level in ("section", "division", "group", "class"):
        batch = [
            IndustryCode(code=r["code"], name=r["name"], level=level, parent_id=ids.get(r["parent"]),
                         sector=sector_for(r["code"]), remark=r["remark"])
            for r in industry_rows() if r["level"] == level and r["code"] not in existing
        ]
        IndustryCode.objects.bulk_create(batch, batch_size=1000)
        created += len(batch)
        ids = dict(IndustryCode.objects.values_list("code", "pk"))
    return created


def division_rows() -> list[dict]:
    with (DATA / "mca_201904.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    codes = {r["Code"] for r in rows}
    out = []
    for row in rows:
        code = row["Code"].strip()
        if code.endswith("0000"):
            level, parent = "province", ""
        elif code.endswith("00"):
            level, parent = "prefecture", code[:2] + "0000"
        else:
            # Counties directly under a province (直辖县级, 直辖市的区) have no prefecture row.
            level = "county"
            parent = code[:4] + "00" if code[:4] + "00" in codes else code[:2] + "0000"
        out.append({"code": code, "name": row["Name"].strip(), "level": level, "parent": parent})
    return out


def load_divisions(Division) -> int:
    existing = set(Division.objects.values_list("code", flat=True))
    created = 0
    for level in ("province", "prefecture", "county"):
        ids = dict(Division.objects.values_list("code", "pk"))
        batch = [Division(code=r["code"], name=r["name"], level=level, parent_id=ids.get(r["parent"]))
                 for r in division_rows() if r["level"] == level and r["code"] not in existing]
        Division.objects.bulk_create(batch, batch_size=1000)
        created += len(batch)
    return created


_LOWER = re.compile(r"^(\d+(?:\.\d+)?)<=")
_LARGE = re.compile(r">=(\d+(?:\.\d+)?)$")
_INDICATORS = {"从业人员": "employees", "营业收入": "revenue", "资产总额": "assets"}


def size_rule_rows() -> list[dict]:
    """The 附表 as one dict per industry: lower bounds per indicator and tier, plus the code prefixes."""
    with (DATA / "size_rule_scopes.csv").open(encoding="utf-8", newline="") as fh:
        scopes = {r["industry"]: r for r in csv.DictReader(fh)}
    rules: dict[str, dict] = {}
    with (DATA / "size_thresholds_2017.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            industry = row["industry"]
            scope = scopes[industry]
            rule = rules.setdefault(industry, {"name": industry.rstrip("*"), "codes": scope["codes"],
                                               "note": scope["note"]})
            indicator = _INDICATORS[row["indicator"].split("(")[0]]
            bounds = {
                "large": _LARGE.search(row["large"]).group(1),
                "medium": _LOWER.match(row["medium"]).group(1),
                "small": _LOWER.match(row["small"]).group(1),
            }
            for tier, value in bounds.items():
                rule[f"{indicator}_{tier}"] = int(value) if indicator == "employees" else Decimal(value)
    return list(rules.values())


def load_size_rules(SizeRule) -> int:
    existing = set(SizeRule.objects.values_list("name", flat=True))
    batch = [SizeRule(**row) for row in size_rule_rows() if row["name"] not in existing]
    SizeRule.objects.bulk_create(batch)
    return len(batch)


def four_above_rows() -> list[dict]:
    with (DATA / "four_above_rules.csv").open(encoding="utf-8", newline="") as fh:
        return [{
            "name": r["name"], "codes": r["codes"], "note": r["note"],
            "min_revenue": Decimal(r["min_revenue"]) if r["min_revenue"] else None,
            "min_employees": int(r["min_employees"]) if r["min_employees"] else None,
            "needs_qualification": r["needs_qualification"] == "1",
        } for r in csv.DictReader(fh)]


def load_four_above_rules(FourAboveRule) -> int:
    existing = set(FourAboveRule.objects.values_list("name", flat=True))
    batch = [FourAboveRule(**row) for row in four_above_rows() if row["name"] not in existing]
    FourAboveRule.objects.bulk_create(batch)
    return len(batch)


def load_tags(Tag) -> int:
    existing = set(Tag.objects.values_list("name", flat=True))
    batch = [Tag(name=name, description=desc, position=i) for i, (name, desc) in enumerate(DEFAULT_TAGS)
             if name not in existing]
    Tag.objects.bulk_create(batch)
    return len(batch)


def load_all(models) -> dict[str, int]:
    """`models` maps model names to classes (apps.get_model in a migration, the real ones otherwise)."""
    return {
        "行业代码": load_industries(models["IndustryCode"]),
        "行政区划": load_divisions(models["Division"]),
        "规模标准": load_size_rules(models["SizeRule"]),
        "四上标准": load_four_above_rules(models["FourAboveRule"]),
        "标签": load_tags(models["Tag"]),
    }
