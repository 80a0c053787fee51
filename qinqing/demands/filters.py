"""The ledger's filters: one form serves the ledger page, its HTMX partial, the Excel export and the API."""

import datetime as dt
import re

from django import forms
from django.db.models import Q
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction, Unit
from qinqing.lib import clock
from qinqing.lib.text import query_tokens

from .models import OPEN_STATES, Category, Channel, Nature, Stage, State
from .search import words_filter
from .widgets import ListedModelChoiceField, QuickSelect, QuickSelectMultiple

NUMBER = re.compile(r"QQ\d{4}-\d{6}")
OVERDUE_CHOICES = [("", "全部"), ("any", "任一环节超期"), *Stage.choices]
STATUS_GROUPS = [("", "全部"), ("open", "办理中（未答复）"), ("done", "已办结"),
                 ("long_term", "区级研究推进"), ("transferred", "移送市级")]


class DemandFilterForm(forms.Form):
    q = forms.CharField(label="关键词", required=False, max_length=100)
    state = forms.MultipleChoiceField(label="状态", choices=State.choices, required=False,
                                      widget=QuickSelectMultiple)
    group = forms.ChoiceField(label="进度", choices=STATUS_GROUPS, required=False, widget=QuickSelect)
    category = ListedModelChoiceField(label="类别", queryset=Category.objects.filter(active=True), required=False,
                                      widget=QuickSelect)
    channel = forms.ChoiceField(label="渠道", choices=[("", "全部"), *Channel.choices], required=False,
                                widget=QuickSelect)
    nature = forms.ChoiceField(label="性质", choices=[("", "全部"), *Nature.choices], required=False,
                               widget=QuickSelect)
    unit = ListedModelChoiceField(label="承办单位", queryset=Unit.objects.filter(active=True), required=False,
                                  widget=QuickSelect)
    jurisdiction = ListedModelChoiceField(label="属地", queryset=Jurisdiction.objects.all(), required=False,
                                          to_field_name="code", widget=QuickSelect)
    overdue = forms.ChoiceField(label="超期", choices=OVERDUE_CHOICES, required=False, widget=QuickSelect)
    # Ids, not model choices: any aspect or class (a retired one too, as a dashboard link may carry it)
    # filters, and a page offers the active ones from the cached taxonomy without a query.
    env_class = forms.IntegerField(label="营商环境大类", required=False, min_value=1, widget=QuickSelect)
    aspect = forms.IntegerField(label="营商环境方面", required=False, min_value=1, widget=QuickSelect)
    received_from = forms.DateField(label="受理日期自", required=False)
    received_to = forms.DateField(label="至", required=False)
    enterprise = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Demands picked one by one (the bulk page's 导出所选, qinqing.handling): numbers separated by commas.
    numbers = forms.CharField(required=False, max_length=4200, widget=forms.HiddenInput)

    def clean_numbers(self) -> list[str]:
        raw = self.cleaned_data.get("numbers") or ""
        numbers = [n.strip().upper() for n in raw.replace("，", ",").split(",") if n.strip()]
        if any(len(n) > 20 for n in numbers):
            raise forms.ValidationError("诉求编号不超过20个字符，多个以逗号分隔。")
        return numbers

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            raise forms.ValidationError("开始日期不能晚于结束日期。")
        return data


def apply_filters(qs, data: dict):
    """Narrow a queryset of visible demands by cleaned filter data."""
    if states := data.get("state"):
        qs = qs.filter(state__in=states)
    group = data.get("group")
    if group == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif group == "done":
        qs = qs.filter(state=State.CLOSED)
    elif group == "long_term":
        qs = qs.filter(state=State.LONG_TERM)
    elif group == "transferred":
        qs = qs.filter(state=State.TRANSFERRED)
    if category := data.get("category"):
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if channel := data.get("channel"):
        qs = qs.filter(channel=channel)
    if nature := data.get("nature"):
        qs = qs.filter(nature=nature)
    if env_class := data.get("env_class"):
        qs = qs.filter(aspect__env_class_id=env_class)
    if aspect := data.get("aspect"):
        qs = qs.filter(aspect_id=aspect)
    if unit := data.get("unit"):
        qs = qs.filter(Q(lead_unit=unit) | Q(pk__in=unit.co_demands.values("pk")))
    if jurisdiction := data.get("jurisdiction"):
        qs = qs.filter(jurisdiction__path__startswith=jurisdiction.path)
    if overdue := data.get("overdue"):
        # due_order equals next_due whenever a clock runs; filtering on it lets the ledger's
        # (due_order, -id) index both select and order the rows instead of sorting every overdue one.
        qs = qs.filter(due_order__lt=clock.today())
        if overdue != "any":
            qs = qs.filter(current_stage=overdue)
    if start := data.get("received_from"):
        qs = qs.filter(received_at__gte=_local_midnight(start))
    if end := data.get("received_to"):
        qs = qs.filter(received_at__lt=_local_midnight(min(end, dt.date.max - dt.timedelta(days=1))
                                                      + dt.timedelta(days=1)))
    if enterprise := data.get("enterprise"):
        qs = qs.filter(enterprise_id=enterprise)
    if numbers := data.get("numbers"):
        qs = qs.filter(number__in=numbers)
    if keyword := (data.get("q") or "").strip():
        if NUMBER.fullmatch(keyword.upper()):
            qs = qs.filter(number=keyword.upper())
        else:
            qs = qs.filter(words_filter(query_tokens(keyword)[:8]))
    return qs


def filter_demands(qs, params):
    """Bind the filter form to request parameters; returns (queryset, form). Invalid filters filter nothing."""
    form = DemandFilterForm(params or None)
    if form.is_bound and form.is_valid():
        return apply_filters(qs, form.cleaned_data), form
    if form.is_bound:
        return qs.none(), form
    return qs, form


LEDGER_ORDER = ("due_order", "-id")


def _local_midnight(day: dt.date) -> dt.datetime:
    # A date a form accepts may lie where a zone offset leaves the datetime range (0001-01-01 in Shanghai is
    # 0000-12-31 in UTC): no demand is that old or that young, so the bound is moved inside the range.
    day = min(max(day, dt.date(1900, 1, 1)), dt.date(9999, 12, 1))
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
