"""一公开 pages, open to anyone without login: the figures by unit and the service-specialist directory.

They read only the pre-aggregate (PublicFigure) and the published directory, so they show no demand, no
enterprise and no person, and answer in a handful of queries however large the demand table is.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import staff_required

from . import services


def _render(request, jurisdiction: Jurisdiction):
    report = services.public_report(jurisdiction)
    children = list(jurisdiction.children.order_by("code").only("code", "name"))
    parent = jurisdiction.parent if jurisdiction.parent_id else None
    specialists = list(services.public_specialists(jurisdiction))
    return render(request, "transparency/public.html", {
        "report": report, "jurisdiction": jurisdiction, "children": children, "parent": parent,
        "specialists": specialists, "definitions": services.SHOWN,
        "is_admin": request.user.is_authenticated and (request.user.is_superuser
                                                       or request.user.has_role("admin"))})


@cache_control(public=True, max_age=300)
def public_home(request):
    jurisdiction = services.top_jurisdiction()
    if jurisdiction is None:
        raise Http404("尚未设置行政区划。")
    return _render(request, jurisdiction)


@cache_control(public=True, max_age=300)
def public_page(request, code: str):
    jurisdiction = Jurisdiction.objects.select_related("parent").filter(code=code).first()
    if jurisdiction is None:
        raise Http404("没有该行政区划。")
    return _render(request, jurisdiction)


@staff_required
@require_POST
def rebuild(request):
    try:
        count = services.request_rebuild(request.user)
    except DomainError as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"公开数据已更新（{count}个统计单元）。")
    return redirect(request.POST.get("next") or "transparency:home")
