"""How a registry change reads: field names and values in words, for the change log and the import preview.

EnterpriseEvent.changes stores what the services compared — attribute names and raw values
({"sector": ["industry", "wholesale_retail"], "jurisdiction_id": [4, 7]}) — so that the trail stays exact
and history is never rewritten. Staff read it through ChangeText, which maps names and values to labels
at render time: field verbose names, choice labels, places, people, divisions and industries by name,
booleans as 是/否. The names behind ids are read in one query per kind for a whole batch of changes.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import Division, Enterprise, Helpers, IndustryCode, Sector, Size, YearlyFigures

EMPTY = "空"
FIGURE_FIELDS = ("employees", "revenue", "assets", "tax_paid")
PEOPLE = ("service_specialist_id", "contact_leader_id")
CHOICES = {"sector": Sector, "size": Size}


def _short(verbose_name) -> str:
    """"行业门类（统计口径）" → "行业门类": the qualifier is for forms, the log needs the name."""
    return str(verbose_name).split("（", 1)[0]


def field_labels() -> dict[str, str]:
    labels = {f.attname: _short(f.verbose_name) for f in (*Enterprise._meta.concrete_fields,
                                                          *Helpers._meta.concrete_fields)}
    labels["figures"] = "年度数据"
    labels["credit_code_override_id"] = "特批代码"
    return labels


def _figure_units() -> dict[str, tuple[str, str]]:
    """employees → ("从业人员", "人"), revenue → ("营业收入", "万元") from the model's verbose names."""
    out = {}
    for key in FIGURE_FIELDS:
        name = str(YearlyFigures._meta.get_field(key).verbose_name)
        label, _, unit = name.partition("（")
        out[key] = (label, unit.rstrip("）"))
    return out


def _number(value) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}".rstrip("0")


class ChangeText:
    """Readable (label, old, new) rows for a batch of change dicts; lookups read once for the batch."""

    def __init__(self, batch: Iterable[Mapping[str, Any]]):
        batch = list(batch)
        wanted: dict[str, set] = {"jurisdiction_id": set(), "division_id": set(), "people": set(),
                                  "industry_code": set()}
        for changes in batch:
            for key, pair in (changes or {}).items():
                bucket = "people" if key in PEOPLE else key
                if bucket in wanted and isinstance(pair, list):
                    wanted[bucket].update(v for v in pair if v)
        from qinqing.accounts.models import Jurisdiction, User

        self.places = (dict(Jurisdiction.objects.filter(pk__in=wanted["jurisdiction_id"]).values_list("pk", "name"))
                       if wanted["jurisdiction_id"] else {})
        self.divisions = ({pk: f"{code} {name}" for pk, code, name in Division.objects.filter(
            pk__in=wanted["division_id"]).values_list("pk", "code", "name")} if wanted["division_id"] else {})
        self.people = ({u.pk: u.display_name for u in User.objects.filter(pk__in=wanted["people"])}
                       if wanted["people"] else {})
        self.industries = (dict(IndustryCode.objects.filter(code__in=wanted["industry_code"])
                                .values_list("code", "name")) if wanted["industry_code"] else {})
        self.labels = field_labels()
        self.units = _figure_units()

    def value(self, key: str, value: Any) -> str:
        """One stored value as staff read it; an id whose row is gone shows as the id."""
        if value is None or value == "" or value == []:
            return EMPTY
        if key == "jurisdiction_id":
            return self.places.get(value, str(value))
        if key == "division_id":
            return self.divisions.get(value, str(value))
        if key in PEOPLE:
            return self.people.get(value, str(value))
        if key == "industry_code":
            name = self.industries.get(value)
            return f"{value} {name}" if name else str(value)
        if key in CHOICES:
            choices = CHOICES[key]
            return choices(value).label if value in choices.values else str(value)
        if key == "credit_code_override_id":
            return "已特批"
        if isinstance(value, bool):
            return "是" if value else "否"
        if key == "figures" and isinstance(value, dict):
            return self.figures(value)
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return str(value)

    def figures(self, figures: Mapping[str, Any]) -> str:
        """{"year": 2025, "employees": 350, "revenue": "2500.00"} → "2025年 从业人员350人，营业收入2500万元"."""
        parts = []
        for key in FIGURE_FIELDS:
            if figures.get(key) is not None:
                label, unit = self.units[key]
                parts.append(f"{label}{_number(figures[key])}{unit}")
        year = f"{figures['year']}年" if figures.get("year") else ""
        return " ".join(p for p in (year, "，".join(parts)) if p) or EMPTY

    def rows(self, changes: Mapping[str, Any] | None) -> list[tuple[str, str | None, str]]:
        """(label, old, new) per changed field; old is None when there was nothing before (a registration)."""
        rows = []
        order = {key: n for n, key in enumerate(self.labels)}  # the model's field order: name first
        for key, pair in sorted((changes or {}).items(), key=lambda item: order.get(item[0], len(order))):
            old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            rows.append((self.labels.get(key, key), None if old is None else self.value(key, old),
                         self.value(key, new)))
        return rows


def describe_events(events: list) -> None:
    """Give each EnterpriseEvent its readable `change_rows`, with the names read once for all of them."""
    text = ChangeText(event.changes for event in events)
    for event in events:
        event.change_rows = text.rows(event.changes)
