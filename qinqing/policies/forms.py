"""The policy form and the rule editor: rows of (组, 非, 条件, 指标, 年度, 比较, 取值), no JSON typed by hand.

Forms only collect text; services.clean_fields and rules.validate decide what is valid, so the page, the
import and the API refuse the same things with the same messages.
"""

from django import forms

from . import rules
from .models import AmountKind, BenefitType, Level, Metric, Policy

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PolicyForm(forms.ModelForm):
    jurisdiction = forms.CharField(label="适用区域", max_length=60,
                                   help_text="区划代码或名称，如“南山区”；政策对该区域及其下辖区域的企业适用")

    class Meta:
        model = Policy
        fields = ["title", "issuer", "doc_number", "level", "jurisdiction", "published_on", "valid_from",
                  "valid_until", "apply_opens", "apply_closes", "no_application", "benefit_type", "amount_kind",
                  "amount_fixed", "amount_percent", "amount_metric", "amount_year", "amount_cap", "interpretation",
                  "original_text", "contact_unit", "contact_phone"]
        widgets = {name: DATE for name in ("published_on", "valid_from", "valid_until", "apply_opens",
                                           "apply_closes")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["jurisdiction"] = self.instance.jurisdiction.name
        self.fields["level"].choices = Level.choices
        self.fields["benefit_type"].choices = BenefitType.choices
        self.fields["amount_kind"].choices = AmountKind.choices

    def _post_clean(self):  # the service validates and writes; the form only carries the text
        pass

    def data_for_service(self) -> dict:
        return {name: self.data.get(name, "") for name in self.Meta.fields} | {
            "no_application": "1" if self.data.get("no_application") else ""}


FIELD_CHOICES = [("", "（空行）"), *rules.FIELDS.items()]
OP_CHOICES = [("gte", "≥ 不低于"), ("gt", "> 高于"), ("lte", "≤ 不高于"), ("lt", "< 低于")]


class ConditionForm(forms.Form):
    group = forms.IntegerField(label="组", min_value=1, max_value=9, initial=1, required=False)
    negate = forms.BooleanField(label="非", required=False)
    field = forms.ChoiceField(label="条件", choices=FIELD_CHOICES, required=False)
    metric = forms.ChoiceField(label="指标", choices=[("", "—"), *Metric.choices], required=False)
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    op = forms.ChoiceField(label="比较", choices=OP_CHOICES, required=False)
    value = forms.CharField(label="取值", required=False, max_length=200)


ConditionFormSet = forms.formset_factory(ConditionForm, extra=3, max_num=rules.MAX_CONDITIONS,
                                         validate_max=True)


def initial_rows(rule: dict) -> list[dict]:
    """The stored tree as the editor's rows."""
    out = []
    for g, rows in enumerate(rules.groups(rule), start=1):
        for row in rows:
            cond = row["cond"]
            value = cond.get("value")
            if isinstance(value, list):
                value = " ".join(value)
            out.append({"group": g, "negate": row["negate"], "field": cond["field"], "metric": cond.get("metric", ""),
                        "year": cond.get("year"), "op": cond.get("op") if cond["field"] in rules.NUMBER_FIELDS else "",
                        "value": "" if value is True else value})
    return out


class PocketBookForm(forms.Form):
    """口袋书: which day's valid policies, for which jurisdiction (the user's own or one below it)."""

    day = forms.DateField(label="有效日期", widget=DATE, error_messages={"invalid": "日期无效，请写成 2026-12-03。"})
    place = forms.ModelChoiceField(label="区域", queryset=None, empty_label=None)

    def __init__(self, user, *args, **kwargs):
        from qinqing.accounts.models import Jurisdiction, Role

        from .models import staff_place

        super().__init__(*args, **kwargs)
        places = Jurisdiction.objects.order_by("path")
        if not (user.is_superuser or user.has_role(Role.ADMIN)):
            home = staff_place(user)
            places = places.filter(path__startswith=home.path) if home else places.none()
        self.fields["place"].queryset = places
        self.fields["place"].label_from_instance = lambda j: j.name
