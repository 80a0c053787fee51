"""三张清单: the opinion, problem and responsibility lists, each a page and an Excel in a joint office's layout.

The rows are the user's visible demands narrowed by the ledger's own filter form, then by the list's
definition (qinqing.demands.lists), so a list, the ledger and the API agree on what a filter means.
"""

import io

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from qinqing.audit.services import record_export
from qinqing.demands.filters import filter_demands
from qinqing.demands.lists import EXPORT_MAX_ROWS, LISTS, page_rows, render_page, write_xlsx
from qinqing.demands.models import Demand
from qinqing.lib import clock

from .common import PAGE_SIZE, Page, page_number, staff_required, with_total
from .ledger import _decorate, _params

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _place(user, form) -> str:
    """Whose list it is, for its title: the jurisdiction filtered on, else the user's own."""
    chosen = form.cleaned_data.get("jurisdiction") if form.is_bound and form.is_valid() else None
    node = chosen or user.jurisdiction
    return node.name if node is not None else ""


@staff_required
def demand_list(request, key: str):
    demand_list = LISTS.get(key)
    if demand_list is None:
        raise Http404("没有这张清单")
    params = _params(request)
    for name in ("format", "page"):
        params.pop(name, None)
    qs, form = filter_demands(Demand.objects.visible_to(request.user), params or None)
    qs = demand_list.rows(qs)
    today = clock.today()
    url = reverse("demands:list", args=[key])
    query = params.urlencode()
    if request.GET.get("format") == "xlsx":
        if form.is_bound and not form.is_valid():
            messages.error(request, "筛选条件有误，未导出。")
            return redirect(f"{url}?{query}")
        total = qs.count()
        if total > EXPORT_MAX_ROWS:
            messages.error(request, f"符合条件的有{total}件，超过单次导出上限{EXPORT_MAX_ROWS}件，请按属地、"
                                    "单位或受理日期缩小范围后再导出。")
            return redirect(f"{url}?{query}")
        place = _place(request.user, form)
        out = io.BytesIO()
        count = write_xlsx(demand_list, qs, out, place=place, as_of=today)
        record_export(demand_list.title(place), actor=request.user, request=request, rows=count, query=query,
                      list=key)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            True, f"{demand_list.title(place)}-{today:%Y%m%d}.xlsx")
        return response
    number = page_number(request)
    rows = page_rows(demand_list, qs, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    page = with_total(Page(rows=rows[:PAGE_SIZE], number=number, size=PAGE_SIZE, has_next=len(rows) > PAGE_SIZE),
                      qs)
    context = {
        "list": demand_list, "lists": LISTS.values(), "form": _decorate(form, request.user), "page": page,
        "columns": list(demand_list.columns), "rows_html": render_page(demand_list, page.rows, today),
        "title": demand_list.title(_place(request.user, form)), "query": query,
    }
    return render(request, "demands/list.html", context)
