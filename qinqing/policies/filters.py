"""The policy list's filters: one form for the staff page, its Excel export and the API.

The default is 现行有效 (published and within validity today), what every public list shows; staff pick
草稿, 已失效, 已废止 or 全部 to see the rest of the record.
"""

from django import forms
from django.db.models import Q

from qinqing.lib import clock

from .models import BenefitType, Level, Status

STATE_CHOICES = [("current", "现行有效"), ("draft", "草稿"), ("expired", "已失效"), ("repealed", "已废止"),
                 ("all", "全部")]


class PolicyFilterForm(forms.Form):
    q = forms.CharField(label="关键词", required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": "政策名称、文号或发文机关"}))
    state = forms.ChoiceField(label="状态", choices=STATE_CHOICES, required=False)
    level = forms.ChoiceField(label="层级", choices=[("", "全部"), *Level.choices], required=False)
    benefit_type = forms.ChoiceField(label="扶持类型", choices=[("", "全部"), *BenefitType.choices], required=False)
    no_application = forms.BooleanField(label="只看免申即享", required=False)
    open_now = forms.BooleanField(label="只看正在申报", required=False)


def apply_filters(qs, data: dict, today=None):
    today = today or clock.today()
    state = data.get("state") or "current"
    past = Q(valid_until__lt=today)
    if state == "current":
        qs = qs.current(today)
    elif state == "draft":
        qs = qs.filter(status=Status.DRAFT)
    elif state == "expired":
        qs = qs.filter(Q(status=Status.EXPIRED) | (Q(status=Status.PUBLISHED) & past))
    elif state == "repealed":
        qs = qs.filter(status=Status.REPEALED)
    if text := (data.get("q") or "").strip():
        qs = qs.filter(Q(title__contains=text) | Q(doc_number__contains=text) | Q(issuer__contains=text))
    if level := data.get("level"):
        qs = qs.filter(level=level)
    if kind := data.get("benefit_type"):
        qs = qs.filter(benefit_type=kind)
    if data.get("no_application"):
        qs = qs.filter(no_application=True)
    if data.get("open_now"):
        qs = qs.filter(Q(apply_opens__isnull=True) | Q(apply_opens__lte=today), apply_closes__gte=today)
    return qs


def filter_policies(qs, params):
    """(filtered queryset, bound form) ordered newest first."""
    form = PolicyFilterForm(params or None)
    data = {}
    if form.is_bound:
        form.is_valid()  # the valid fields still filter
        data = form.cleaned_data
    return apply_filters(qs, data).select_related("jurisdiction").order_by("-published_on", "-pk"), form


class EligibleFilterForm(forms.Form):
    """The eligible enterprises of one policy: the policy page's list, its Excel export and the API."""

    q = forms.CharField(label="企业", required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": "企业名称或统一社会信用代码"}))
    place = forms.CharField(label="区划代码", required=False, max_length=12,
                            widget=forms.TextInput(attrs={"placeholder": "如 320412001（含下辖）"}))


def filter_eligible(qs, params):
    """(filtered queryset of enterprises, bound form): by name or credit code, by jurisdiction subtree."""
    from qinqing.accounts.models import Jurisdiction

    form = EligibleFilterForm(params or None)
    data = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    if text := (data.get("q") or "").strip():
        qs = qs.filter(Q(name__contains=text) | Q(credit_code=text.upper()))
    if code := (data.get("place") or "").strip():
        place = Jurisdiction.objects.filter(code=code).only("path").first()
        if place is None:
            form.add_error("place", f"区划代码“{code}”不存在。")
            qs = qs.none()
        else:
            qs = qs.filter(jurisdiction__path__startswith=place.path)
    return qs, form
