"""The fulfilment ledger as Excel: the rows the page's filter selects, then a sheet of the totals by type."""

from qinqing.lib import clock
from qinqing.policies.models import BenefitType
from qinqing.reports.docs import workbook

HEADERS = ["政策名称", "扶持类型", "企业名称", "统一社会信用代码", "所在镇街园区", "兑现方式", "兑现金额（万元）",
           "起算日期", "核定日期", "兑现日期", "兑现用时（自然日）", "兑现用时（工作日）"]


def export(records) -> bytes:
    """`records` (already filtered, related rows joined) as the ledger sheet plus the totals by benefit type."""
    labels = dict(BenefitType.choices)
    rows = [[r.policy.title, labels.get(r.benefit_type, r.benefit_type), r.enterprise.name, r.enterprise.credit_code,
             r.jurisdiction.name, r.get_source_display(), r.amount, r.started_on, r.granted_on, r.paid_on,
             r.days_to_pay, r.workdays_to_pay] for r in records]
    by_type: dict[str, list] = {}
    for r in records:
        entry = by_type.setdefault(labels.get(r.benefit_type, r.benefit_type), [0, 0, set()])
        entry[0] += 1
        entry[1] += r.amount
        entry[2].add(r.enterprise_id)
    totals = [[label, n, amount, len(firms)] for label, (n, amount, firms) in by_type.items()]
    today = clock.today()
    return workbook([("兑现台账", f"政策兑现台账（导出于{today:%Y-%m-%d}）", HEADERS, rows),
                     ("按扶持类型", "按扶持类型汇总", ["扶持类型", "笔数", "金额（万元）", "企业数"], totals)])

