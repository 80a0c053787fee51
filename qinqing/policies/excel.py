"""The policy list as Excel: the export staff download and the import of the list they already keep.

Both use the same columns, so an exported file imports again. The import reads the workbook through the
registry's hardened reader (qinqing.visits.excel.read_rows), finds the header row (the export puts a title
above it), maps columns by their Chinese names and hands the rows to services.import_policies, which writes
all of them or none.
"""

import datetime as dt

from qinqing.demands.errors import DomainError
from qinqing.reports.docs import workbook
from qinqing.visits.excel import read_rows

from . import services
from .models import AmountKind, BenefitType, Level, Metric

COLUMNS = [  # (header, field); the export's extra columns (状态, 适用条件) are not read back
    ("政策名称", "title"), ("发文机关", "issuer"), ("文号", "doc_number"), ("层级", "level"),
    ("适用区域", "jurisdiction"), ("发布日期", "published_on"), ("有效期起", "valid_from"),
    ("有效期至", "valid_until"), ("申报开始", "apply_opens"), ("申报截止", "apply_closes"),
    ("免申即享", "no_application"), ("扶持类型", "benefit_type"), ("金额规则", "amount_kind"),
    ("固定金额（万元）", "amount_fixed"), ("比例（%）", "amount_percent"), ("比例基数", "amount_metric"),
    ("基数年度", "amount_year"), ("封顶金额（万元）", "amount_cap"), ("联系单位", "contact_unit"),
    ("联系电话", "contact_phone"), ("政策解读", "interpretation"), ("政策原文", "original_text"),
]
DATE_FIELDS = {"published_on", "valid_from", "valid_until", "apply_opens", "apply_closes"}
MAX_ROWS = 2000
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _label(choices, value) -> str:
    return dict(choices.choices).get(value, "") if value else ""


def export(policies, today: dt.date) -> bytes:
    """The policies as one sheet, in the import's columns plus their status and rule."""
    rows = []
    for p in policies:
        rows.append([p.title, p.issuer, p.doc_number, _label(Level, p.level), p.jurisdiction.name,
                     p.published_on, p.valid_from, p.valid_until, p.apply_opens, p.apply_closes,
                     "是" if p.no_application else "否", _label(BenefitType, p.benefit_type),
                     _label(AmountKind, p.amount_kind), p.amount_fixed, p.amount_percent,
                     _label(Metric, p.amount_metric), p.amount_year, p.amount_cap, p.contact_unit, p.contact_phone,
                     p.interpretation, p.original_text[:2000], p.status_label, p.rule_text])
    headers = [h for h, _ in COLUMNS] + ["状态", "适用条件"]
    return workbook([("惠企政策", f"惠企政策清单（截至{today:%Y-%m-%d}）", headers, rows)])


def export_eligible(policy, enterprises) -> bytes:
    """One policy's eligible enterprises (annotated by matching.eligible, `reason` set) as one sheet."""
    headers = ["企业名称", "统一社会信用代码", "镇街园区", "符合的条件", "预计金额（万元）"]
    rows = [[e.name, e.credit_code, e.jurisdiction.name, e.reason, e.estimate] for e in enterprises]
    return workbook([("符合条件企业", f"{policy.title}：符合条件的企业", headers, rows)])


def _date_cell(value):
    """Excel keeps a date typed into a cell as a day number; text dates are read by the service."""
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit() and 20000 < float(text) < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    return text


def read(upload) -> list[dict]:
    """The workbook's rows as dicts of field → text, each with its row number as `_row`."""
    rows = read_rows(upload, MAX_ROWS + 2)
    names = dict(COLUMNS)
    header_at = next((i for i, (_, cells) in enumerate(rows[:3]) if "政策名称" in [str(c).strip() for c in cells]),
                     None)
    if header_at is None:
        raise DomainError("缺少“政策名称”列：表头应包含" + "、".join(h for h, _ in COLUMNS[:5]) + "等列。")
    header = [str(c).strip() for c in rows[header_at][1]]
    missing = [h for h in ("政策名称", "发文机关", "层级", "适用区域", "扶持类型") if h not in header]
    if missing:
        raise DomainError(f"缺少必填列：{'、'.join(missing)}。")
    index = {names[h]: i for i, h in enumerate(header) if h in names}
    out = []
    for number, cells in rows[header_at + 1:]:
        if not any(str(c).strip() for c in cells):
            continue
        row = {field: (cells[i] if i < len(cells) else "") for field, i in index.items()}
        for field in DATE_FIELDS & row.keys():
            row[field] = _date_cell(row[field])
        out.append({**row, "_row": number})
    if len(out) > MAX_ROWS:
        raise DomainError(f"一次最多导入{MAX_ROWS}条政策，请拆分文件。")
    return out


def import_file(user, upload) -> int:
    """Read and import a workbook: every row as a draft policy, or none (the first wrong row is named)."""
    return len(services.import_policies(user, read(upload)))
