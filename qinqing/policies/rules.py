"""Eligibility rules as data: validated, explained in plain Chinese, compiled to one query on the registry.

A rule is stored as a tree in disjunctive form, which the staff form edits as rows of conditions:

    {"any": [{"all": [condition, {"not": condition}, ...]}, ...]}

Rows with the same group number must all hold (且); any one group is enough (或); a row may be negated (非).
Every boolean combination of conditions can be written so. An empty rule ({}) means every enterprise.
A condition is {"field": …, "op": …, "value": …} plus `year` for yearly figures; `labels` and `path` are
written by `validate` (names shown in the explanation, the jurisdiction's subtree) so that explaining and
compiling a rule read nothing from the database.

Fields: industry (GB/T 4754 codes; a code matches itself and everything below it, stored as prefixes),
size, four_above, tag, jurisdiction (a subtree), years (since `Enterprise.established_on`), figure (a yearly
figure against a threshold) and growth (its growth in % over the previous year). `compile_rule` turns the tree
into a Q whose yearly-figure parts are EXISTS subqueries on YearlyFigures: nothing is evaluated in Python.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)

from qinqing.enterprises.models import Size, YearlyFigures

from .models import Metric

FIELDS = {
    "industry": "行业",
    "size": "企业规模",
    "four_above": "四上企业",
    "tag": "企业标签",
    "jurisdiction": "所在区域",
    "years": "成立年限",
    "figure": "年度数据",
    "growth": "年度数据增长率",
}
SET_FIELDS = ("industry", "size", "tag", "jurisdiction", "four_above")
NUMBER_FIELDS = ("years", "figure", "growth")
OPERATORS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}
_MORE = {"gte": "不低于", "gt": "高于", "lte": "不高于", "lt": "低于"}
_GROWTH = {"gte": "以上", "gt": "（不含）以上", "lte": "及以下", "lt": "以下（不含）"}
_YEARS = {"gte": "成立满{n}年", "gt": "成立超过{n}年", "lte": "成立不超过{n}年", "lt": "成立不满{n}年"}
MAX_CONDITIONS = 30


class RuleError(ValueError):
    """A rule that cannot be saved; the message names the row and the field, in Chinese."""


# ---------------------------------------------------------------- reading the tree

def groups(rule: dict) -> list[list[dict]]:
    """The rule's groups, each a list of rows {"cond": condition, "negate": bool}."""
    out = []
    for group in (rule or {}).get("any", []):
        rows = []
        for item in group.get("all", []):
            if "not" in item:
                rows.append({"cond": item["not"], "negate": True})
            else:
                rows.append({"cond": item, "negate": False})
        out.append(rows)
    return out


def build(groups_of_rows: list[list[dict]]) -> dict:
    """The stored tree from groups of rows (the inverse of `groups`)."""
    return {"any": [{"all": [{"not": r["cond"]} if r["negate"] else r["cond"] for r in rows]}
                    for rows in groups_of_rows if rows]} if any(groups_of_rows) else {}


def conditions(rule: dict) -> list[tuple[int, int, dict, bool]]:
    """Every row as (group index, row index within the group, condition, negated)."""
    return [(g, i, row["cond"], row["negate"]) for g, rows in enumerate(groups(rule)) for i, row in enumerate(rows)]


# ---------------------------------------------------------------- validation

def _number(value, label: str, where: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise RuleError(f"{where}“{label}”的数值“{value}”不是数字。") from None
    if not number.is_finite():
        raise RuleError(f"{where}“{label}”的数值“{value}”不是数字。")
    return number


def _split(value) -> list[str]:
    if isinstance(value, list):
        items = value
    else:
        items = str(value or "").replace("，", " ").replace(",", " ").replace("、", " ").split()
    return [str(v).strip() for v in items if str(v).strip()]


def clean_condition(cond: dict, where: str, lookups: "Lookups") -> dict:
    """One condition checked and normalised; raises RuleError naming `where` (第2组第1行) and the field."""
    field = cond.get("field")
    if field not in FIELDS:
        raise RuleError(f"{where}的条件字段“{field or ''}”无效，请从列表中选择。")
    label = FIELDS[field]
    op = cond.get("op") or ("in" if field in SET_FIELDS else "")
    value = cond.get("value")
    if field in SET_FIELDS:
        items = _split(value)
        if field == "four_above":
            return {"field": field, "op": "in", "value": True}
        if not items:
            raise RuleError(f"{where}“{label}”未填写取值。")
        if field == "industry":
            codes = [c.upper() for c in items]
            names = lookups.industries(codes)
            unknown = [c for c in codes if c not in names]
            if unknown:
                raise RuleError(f"{where}“{label}”中的代码“{'、'.join(unknown)}”不是国民经济行业分类（GB/T 4754-2017）"
                                "代码，请填写如“C”“C39”“I65”的代码。")
            return {"field": field, "op": "in", "value": codes, "labels": [f"{c} {names[c]}" for c in codes]}
        if field == "size":
            by_label = {label_: code for code, label_ in Size.choices}
            sizes = []
            for item in items:
                code = item if item in Size.values else by_label.get(item) or by_label.get(item + "型")
                if code is None:
                    raise RuleError(f"{where}“{label}”的取值“{item}”无效，应为大型、中型、小型或微型。")
                sizes.append(code)
            return {"field": field, "op": "in", "value": sorted(set(sizes), key=Size.values.index)}
        if field == "tag":
            known = lookups.tags()
            unknown = [t for t in items if t not in known]
            if unknown:
                raise RuleError(f"{where}“{label}”中的标签“{'、'.join(unknown)}”不存在，请先在企业标签中添加。")
            return {"field": field, "op": "in", "value": items}
        # jurisdiction: one place, by code or name
        place = lookups.place(items[0])
        if place is None:
            raise RuleError(f"{where}“{label}”的取值“{items[0]}”不是已登记的区划（代码或名称）。")
        return {"field": field, "op": "in", "value": place.code, "path": place.path, "labels": [place.name]}
    if op not in OPERATORS:
        raise RuleError(f"{where}“{label}”的比较方式“{op or ''}”无效，应为≥、>、≤或<。")
    number = _number(value, label, where) if value not in (None, "") else None
    if number is None:
        raise RuleError(f"{where}“{label}”未填写数值。")
    out = {"field": field, "op": op, "value": f"{number.normalize():f}"}
    if field == "years":
        if number < 0 or number > 200 or number != number.to_integral_value():
            raise RuleError(f"{where}“{label}”应为0到200之间的整数年。")
        return {**out, "value": str(int(number))}
    metric = cond.get("metric")
    if metric not in Metric.values:
        raise RuleError(f"{where}“{label}”未选择指标（营业收入、纳税额、资产总额或从业人员）。")
    try:
        year = int(cond.get("year"))
    except (TypeError, ValueError):
        raise RuleError(f"{where}“{label}”未填写年度。") from None
    if not 2000 <= year <= 2100:
        raise RuleError(f"{where}“{label}”的年度“{year}”无效。")
    if field == "growth" and number < -100:
        raise RuleError(f"{where}“{label}”的增长率不能低于-100%。")
    return {**out, "metric": metric, "year": year}


class Lookups:
    """What validation reads from the database, read once per rule."""

    def __init__(self):
        self._tags = None

    def industries(self, codes: list[str]) -> dict[str, str]:
        from qinqing.enterprises.models import IndustryCode

        return dict(IndustryCode.objects.filter(code__in=codes).values_list("code", "name"))

    def tags(self) -> set[str]:
        from qinqing.enterprises.models import Tag

        if self._tags is None:
            self._tags = set(Tag.objects.values_list("name", flat=True))
        return self._tags

    def place(self, text: str):
        from qinqing.accounts.models import Jurisdiction

        return (Jurisdiction.objects.filter(code=text).first()
                or Jurisdiction.objects.filter(name=text).order_by("path").first())


def validate(rows: list[dict], lookups: Lookups | None = None) -> dict:
    """Rows from the form ({"group", "negate", "field", "op", "value", "metric", "year"}) → the stored tree.

    Raises RuleError on a row that is incomplete or names what does not exist, and on a rule that can never
    match (every group holds two conditions that exclude each other)."""
    lookups = lookups or Lookups()
    rows = [r for r in rows if r.get("field")]
    if len(rows) > MAX_CONDITIONS:
        raise RuleError(f"适用条件最多{MAX_CONDITIONS}条。")
    by_group: dict[int, list[dict]] = {}
    for number, row in enumerate(rows, start=1):
        try:
            group = int(row.get("group") or 1)
        except (TypeError, ValueError):
            raise RuleError(f"第{number}行的“组”应为数字。") from None
        where = f"第{number}行"
        cond = clean_condition(row, where, lookups)
        by_group.setdefault(group, []).append({"cond": cond, "negate": bool(row.get("negate")), "row": number})
    tree_groups = [by_group[g] for g in sorted(by_group)]
    reasons = [contradiction(rows_) for rows_ in tree_groups]
    if tree_groups and all(reasons):
        raise RuleError("该规则永远不会匹配任何企业：" + "；".join(
            f"第{g}组{reason}" if len(tree_groups) > 1 else reason for g, reason in enumerate(reasons, start=1)))
    return build([[{"cond": r["cond"], "negate": r["negate"]} for r in rows_] for rows_ in tree_groups])


def _interval(op: str, n: Decimal) -> tuple:
    """(low, low_inclusive, high, high_inclusive) of the values `op n` admits."""
    return {"gte": (n, True, None, False), "gt": (n, False, None, False),
            "lte": (None, False, n, True), "lt": (None, False, n, False)}[op]


def contradiction(rows: list[dict]) -> str:
    """Why the conditions of one group can never all hold (a Chinese sentence naming them), or ""."""
    positive: dict[tuple, dict] = {}
    seen: dict[str, tuple[dict, bool]] = {}
    bounds: dict[tuple, list] = {}
    for row in rows:
        cond, negate = row["cond"], row["negate"]
        text = describe(cond)
        key = repr(sorted((k, v) for k, v in cond.items() if k != "labels"))
        if key in seen and seen[key][1] != negate:
            return f"同时要求“{text}”和“{describe_row(cond, True)}”"
        seen[key] = (cond, negate)
        field = cond["field"]
        if negate and field in ("industry", "size", "jurisdiction", "tag"):
            continue
        if field in ("industry", "size", "jurisdiction") and not negate:
            if field in positive:
                other = positive[field]
                if field == "size" and not set(other["value"]) & set(cond["value"]):
                    return f"“{describe(other)}”与“{text}”不能同时满足"
                if field == "industry" and not any(a.startswith(b) or b.startswith(a)
                                                  for a in other["value"] for b in cond["value"]):
                    return f"“{describe(other)}”与“{text}”不能同时满足"
                if field == "jurisdiction" and not (other["path"].startswith(cond["path"])
                                                    or cond["path"].startswith(other["path"])):
                    return f"“{describe(other)}”与“{text}”不能同时满足"
            positive[field] = cond
        if field in NUMBER_FIELDS:
            op = cond["op"]
            if negate:
                op = {"gte": "lt", "gt": "lte", "lte": "gt", "lt": "gte"}[op]
            n = Decimal(cond["value"])
            key2 = (field, cond.get("metric"), cond.get("year"))
            low, low_in, high, high_in = _interval(op, n)
            if field == "figure" and cond.get("metric") and ((high is not None and high < 0)
                                                            or (high == 0 and not high_in)):
                return f"“{text}”：年度数据不会为负数"
            if field == "years" and ((high is not None and high < 0) or (high == 0 and not high_in)):
                return f"“{text}”：成立年限不会为负数"
            current = bounds.setdefault(key2, [None, False, None, False, []])
            if low is not None and (current[0] is None or low > current[0] or (low == current[0] and not low_in)):
                current[0], current[1] = low, low_in
            if high is not None and (current[2] is None or high < current[2] or (high == current[2] and not high_in)):
                current[2], current[3] = high, high_in
            current[4].append(describe_row(cond, row["negate"]))
            lo, lo_in, hi, hi_in, texts = current
            if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_in and hi_in))):
                return f"“{'”与“'.join(texts)}”不能同时满足"
    return ""


# ---------------------------------------------------------------- explanation

def _amount(value: str, metric: str) -> str:
    return f"{value}{Metric.unit(metric)}"


def describe(cond: dict) -> str:
    """One condition in plain Chinese: 行业属于C 制造业 / 2025年营业收入比上年增长10%以上."""
    field, op, value = cond["field"], cond.get("op"), cond.get("value")
    if field == "industry":
        return "行业属于" + "、".join(cond.get("labels") or value)
    if field == "size":
        return "规模为" + "或".join(Size(v).label for v in value)
    if field == "four_above":
        return "四上企业"
    if field == "tag":
        return "具有" + "或".join(f"“{t}”" for t in value) + "标签"
    if field == "jurisdiction":
        return f"位于{(cond.get('labels') or [value])[0]}"
    if field == "years":
        return _YEARS[op].format(n=value)
    metric = Metric(cond["metric"]).label
    if field == "figure":
        return f"{cond['year']}年{metric}{_MORE[op]}{_amount(value, cond['metric'])}"
    return f"{cond['year']}年{metric}比上年增长{value}%{_GROWTH[op]}"


def describe_row(cond: dict, negate: bool) -> str:
    if not negate:
        return describe(cond)
    if cond["field"] == "four_above":
        return "非四上企业"
    return f"不满足“{describe(cond)}”"


def explain(rule: dict) -> str:
    """The whole rule: '适用于：四上企业，且行业属于C 制造业，且2025年营业收入比上年增长10%以上'."""
    parts = ["，且".join(describe_row(r["cond"], r["negate"]) for r in rows) for rows in groups(rule)]
    if not parts:
        return "适用于：所有企业"
    if len(parts) == 1:
        return "适用于：" + parts[0]
    return "适用于以下任一情形：" + "；".join(f"（{i}）{p}" for i, p in enumerate(parts, start=1))


# ---------------------------------------------------------------- compilation

def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def figure_value(metric: str, year: int, outer: str = "pk"):
    """The enterprise's `metric` for `year` as a scalar subquery (NULL when not reported)."""
    return Subquery(YearlyFigures.objects.filter(enterprise=OuterRef(outer), year=year).values(metric)[:1])


def compile_condition(cond: dict, today: dt.date) -> Q:
    field, op, value = cond["field"], cond.get("op"), cond.get("value")
    if field == "industry":
        q = Q(pk__in=[])
        for code in value:
            q |= Q(industry_code__startswith=code)
        return q
    if field == "size":
        return Q(size__in=value)
    if field == "four_above":
        return Q(is_four_above=True)
    if field == "tag":
        q = Q(pk__in=[])
        for tag in value:
            q |= Q(tags__has_tag=tag)
        return q
    if field == "jurisdiction":
        return Q(jurisdiction__path__startswith=cond["path"])
    if field == "years":
        # 成立满 n 年: established on or before the same day n years ago.
        n = int(value)
        return {"gte": Q(established_on__lte=_years_ago(today, n)),
                "gt": Q(established_on__lt=_years_ago(today, n)),
                "lte": Q(established_on__gte=_years_ago(today, n)),
                "lt": Q(established_on__gt=_years_ago(today, n))}[op]
    metric, year, number = cond["metric"], int(cond["year"]), Decimal(value)
    rows = YearlyFigures.objects.filter(enterprise=OuterRef("pk"), year=year)
    if field == "figure":
        return Q(Exists(rows.filter(**{f"{metric}__{op}": number})))
    # growth: this year's figure against last year's × (1 + p/100), last year's figure positive.
    previous = Subquery(YearlyFigures.objects.filter(enterprise=OuterRef("enterprise"), year=year - 1)
                        .values(metric)[:1])
    target = ExpressionWrapper(F("previous") * (1 + number / 100),
                               output_field=DecimalField(max_digits=20, decimal_places=4))
    rows = rows.annotate(previous=previous, target=target).filter(previous__gt=0)
    return Q(Exists(rows.filter(**{f"{metric}__{op}": F("target")})))


def compile_row(cond: dict, negate: bool, today: dt.date) -> Q:
    q = compile_condition(cond, today)
    return ~q if negate else q


def compile_rule(rule: dict, today: dt.date) -> Q:
    """The rule as one Q on Enterprise (an empty rule: every enterprise)."""
    parts = groups(rule)
    if not parts:
        return Q(pk__isnull=False)  # a condition, not Q(): it must also stand inside When()
    out = Q(pk__in=[])
    for rows in parts:
        group = Q()
        for row in rows:
            group &= compile_row(row["cond"], row["negate"], today)
        out |= group
    return out


def met(cond: dict, negate: bool, today: dt.date):
    """1 when the row holds for the enterprise, else 0: an integer column to sum."""
    return Case(When(compile_row(cond, negate, today), then=Value(1)), default=Value(0),
                output_field=IntegerField())
