"""The fulfilment ledger (兑现台账): one filter for its page, its Excel export and the API; its totals by
policy, benefit type, jurisdiction and month; the days to payment; and seed 002's sentence from the data.

Periods are on the payment date (兑现日期) for paid records — what "已落实" means in a report — and on the
grant date for records still to be paid. Days to payment are counted from the application date (申报) or
from the batch's approval (免申即享) to the payment date, in calendar days and in working days on the
official calendar; both are stored with the payment, so the figures here are plain aggregates.
"""

import datetime as dt
from decimal import Decimal

from django import forms
from django.db.models import Avg, Count, Sum
from django.db.models.functions import TruncMonth

from qinqing.accounts.models import Jurisdiction
from qinqing.policies.models import BenefitType

from .models import FulfilmentRecord

STATE_CHOICES = [("paid", "已兑现"), ("granted", "已核定待拨付"), ("all", "全部")]
# The words of seed 002's sentence for each benefit type, in the order the sentence names them.
BENEFIT_WORDS = {BenefitType.TAX: "减税降费", BenefitType.GRANT: "资金奖补", BenefitType.FINANCING: "融资支持",
                 BenefitType.TALENT: "人才扶持", BenefitType.LAND: "用地保障", BenefitType.OTHER: "其他扶持"}


class LedgerFilterForm(forms.Form):
    state = forms.ChoiceField(label="状态", choices=STATE_CHOICES, required=False)
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    jurisdiction = forms.CharField(label="区域代码", required=False, max_length=20,
                                   widget=forms.TextInput(attrs={"placeholder": "区划或镇街代码，含下级"}))
    benefit_type = forms.ChoiceField(label="扶持类型", choices=[("", "全部"), *BenefitType.choices], required=False)
    source = forms.ChoiceField(label="兑现方式", choices=[("", "全部"), *FulfilmentRecord.Source.choices],
                               required=False)
    policy = forms.IntegerField(label="政策编号", required=False, min_value=1, max_value=2_147_483_647)
    q = forms.CharField(label="企业", required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": "企业名称或信用代码"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "“截止日期”早于“起始日期”。")
        return data


def apply_filters(qs, data: dict):
    state = data.get("state") or "paid"
    day_field = "paid_on" if state == "paid" else "granted_on"
    if state == "paid":
        qs = qs.filter(paid_on__isnull=False)
    elif state == "granted":
        qs = qs.filter(paid_on__isnull=True)
    if start := data.get("date_from"):
        qs = qs.filter(**{f"{day_field}__gte": start})
    if end := data.get("date_to"):
        qs = qs.filter(**{f"{day_field}__lte": end})
    if code := (data.get("jurisdiction") or "").strip():
        place = Jurisdiction.objects.filter(code=code).only("path").first()
        qs = qs.filter(jurisdiction__path__startswith=place.path) if place else qs.none()
    if kind := data.get("benefit_type"):
        qs = qs.filter(benefit_type=kind)
    if source := data.get("source"):
        qs = qs.filter(source=source)
    if policy := data.get("policy"):
        qs = qs.filter(policy_id=policy)
    if text := (data.get("q") or "").strip():
        qs = qs.filter(enterprise__name__contains=text) | qs.filter(enterprise__credit_code=text.upper())
    return qs


def filter_records(qs, params):
    """(filtered queryset of ledger rows, bound form); invalid fields are ignored, valid ones still filter."""
    form = LedgerFilterForm(params or None)
    data = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    qs = apply_filters(qs, data).select_related("policy", "enterprise", "jurisdiction")
    return qs.order_by("-paid_on", "-granted_on", "-pk"), form


def _medians(qs, fields: tuple[str, ...]) -> dict:
    """The median of each non-null integer column (all null together: both are written with the payment),
    by one count and one ordered two-row read per column (no rows loaded)."""
    qs = qs.filter(**{f"{fields[0]}__isnull": False})
    n = qs.count()
    out = {}
    for field in fields:
        if n == 0:
            out[field] = None
            continue
        values = list(qs.order_by(field).values_list(field, flat=True)[(n - 1) // 2:n // 2 + 1])
        out[field] = sum(values) / len(values)
    return out


def summary(qs) -> dict:
    """The ledger's totals for the filtered rows: overall, and by policy, benefit type, jurisdiction, month."""
    qs = qs.order_by()
    overall = qs.aggregate(records=Count("pk"), amount=Sum("amount"), policies=Count("policy", distinct=True),
                           enterprises=Count("enterprise", distinct=True), days=Avg("days_to_pay"),
                           workdays=Avg("workdays_to_pay"))
    overall["amount"] = overall["amount"] or Decimal(0)
    medians = _medians(qs, ("days_to_pay", "workdays_to_pay"))
    overall["median_days"], overall["median_workdays"] = medians["days_to_pay"], medians["workdays_to_pay"]
    groups = {"records": Count("pk"), "amount": Sum("amount"), "enterprises": Count("enterprise", distinct=True)}
    by_type = list(qs.values("benefit_type").annotate(**groups).order_by("-amount"))
    labels = dict(BenefitType.choices)
    for row in by_type:
        row["label"] = labels.get(row["benefit_type"], row["benefit_type"])
    by_place = list(qs.values("jurisdiction__name").annotate(**groups).order_by("-amount")[:30])
    by_policy = list(qs.values("policy_id", "policy__title").annotate(**groups, days=Avg("days_to_pay"))
                     .order_by("-amount")[:20])
    by_month = list(qs.filter(paid_on__isnull=False).annotate(month=TruncMonth("paid_on")).values("month")
                    .annotate(**groups).order_by("month"))
    for row in [overall, *by_type, *by_place, *by_policy, *by_month]:
        row["amount"] = _cents(row["amount"])
    return {"overall": overall, "by_type": by_type, "by_place": by_place, "by_policy": by_policy,
            "by_month": by_month}


def _cents(amount) -> Decimal:
    """A sum of amounts to the fen: SQLite adds decimals as floats and returns their noise."""
    return Decimal(amount or 0).quantize(Decimal("0.01"))


def _wan(amount: Decimal) -> str:
    """An amount in 万元 as a report writes it: two decimals, trailing zeros dropped."""
    text = f"{Decimal(amount).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else "、".join(words[:-1]) + "和" + words[-1]


def sentence_figures(records, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """N policies, X 万元, Y enterprises and the benefit types present, over the records paid in [start, end]."""
    qs = records.filter(paid_on__isnull=False)
    if start:
        qs = qs.filter(paid_on__gte=start)
    if end:
        qs = qs.filter(paid_on__lte=end)
    qs = qs.order_by()
    figures = qs.aggregate(policies=Count("policy", distinct=True), amount=Sum("amount"),
                           enterprises=Count("enterprise", distinct=True))
    figures["amount"] = _cents(figures["amount"])
    present = set(qs.values_list("benefit_type", flat=True).distinct())
    figures["types"] = [t for t in BENEFIT_WORDS if t in present]
    return figures


def sentence(records, start: dt.date | None = None, end: dt.date | None = None) -> str:
    """Seed 002's sentence written from the ledger: "已落实N项惠企政策，涉及减税降费和资金奖补金额共X万元，
    惠及企业Y户", naming only the benefit types actually paid in the period."""
    return sentence_text(sentence_figures(records, start, end))


def sentence_of_summary(totals: dict) -> str:
    """The sentence from `summary()` of records already limited to paid ones in the period (no query)."""
    o = totals["overall"]
    present = {r["benefit_type"] for r in totals["by_type"]}
    return sentence_text({"policies": o["policies"], "amount": o["amount"], "enterprises": o["enterprises"],
                          "types": [t for t in BENEFIT_WORDS if t in present]})


def sentence_text(f: dict) -> str:
    if not f["policies"]:
        return "本期未登记惠企政策兑现。"
    words = _join([BENEFIT_WORDS[t] for t in f["types"]])
    return f"已落实{f['policies']}项惠企政策，涉及{words}金额共{_wan(f['amount'])}万元，惠及企业{f['enterprises']}户。"


def place_sentence(jurisdiction, start: dt.date, end: dt.date) -> str:
    """The sentence for the records of enterprises in `jurisdiction`'s subtree paid in [start, end]: what the
    briefing (qinqing.reports.briefing) adds after its paragraph."""
    records = FulfilmentRecord.objects.filter(jurisdiction__path__startswith=jurisdiction.path)
    return sentence(records, start, end)
