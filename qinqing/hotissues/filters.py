"""The hot-issue list's filters: one form for the leaders' page, its Excel export and the API.

A month (YYYY-MM; by default the latest month computed among the caller's hot issues), a jurisdiction (any
non-town node the caller may see: its subtree's hot issues), words in the generated title (its key terms, place and group), and a
minimum number of distinct enterprises. Rows come ordered by jurisdiction and rank (heat, highest first).
"""

import datetime as dt
import re

from django import forms
from django.db.models import Exists, Max, OuterRef

from .models import HotIssue, PolicyStudy
from .services import visible_jurisdictions

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class HotIssueFilterForm(forms.Form):
    month = forms.CharField(label="月份", required=False, max_length=7,
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}))
    jurisdiction = forms.ChoiceField(label="区域", required=False)
    q = forms.CharField(label="关键词", required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": "标题或关键词"}))
    min_enterprises = forms.IntegerField(label="企业数不少于", required=False, min_value=1, max_value=100000)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "全部"), *((j.code, j.name) for j in places)]

    def clean_month(self):
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        match = _MONTH.match(text)
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise forms.ValidationError("月份应写成 2026-12。")
        return dt.date(int(match[1]), int(match[2]), 1)


def filter_hot_issues(user, params):
    """(hot issues the user may see under the filters, bound form, the month shown or None).

    An invalid field is reported by the form and ignored, like the other lists; the API turns it into a 400."""
    places = list(visible_jurisdictions(user))
    form = HotIssueFilterForm(params or None, places=places)
    data = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    qs = HotIssue.objects.visible_to(user)
    if code := data.get("jurisdiction"):
        place = next(j for j in places if j.code == code)
        qs = qs.filter(jurisdiction__path__startswith=place.path)
    month = data.get("month") or qs.aggregate(m=Max("period_start"))["m"]
    qs = qs.filter(period_start=month) if month else qs.none()
    if text := (data.get("q") or "").strip():
        qs = qs.filter(title__contains=text)  # the title carries the key terms, the place and the group
    if n := data.get("min_enterprises"):
        qs = qs.filter(enterprise_count__gte=n)
    studied = PolicyStudy.objects.filter(hot_issue=OuterRef("pk"))
    qs = (qs.select_related("jurisdiction").annotate(studied=Exists(studied))
          .order_by("jurisdiction__path", "rank", "pk"))
    return qs, form, month
