"""The enterprise's side: who its helpers are, the visits recorded on it, and its word on each visit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import paginate

from . import services
from .forms import RespondForm
from .models import Assignment, Visit


def _enterprise_user(request):
    user = request.user
    if not user.has_role(Role.ENTERPRISE) or not user.enterprise_id:
        raise Http404("页面不存在")
    return user


@login_required
def my_visits(request):
    user = _enterprise_user(request)
    helpers = list(Assignment.objects.current().filter(enterprise_id=user.enterprise_id)
                   .select_related("cadre__user", "cadre__unit").order_by("duty"))
    page = paginate(Visit.objects.visible_to(user).filter(enterprise_id=user.enterprise_id)
                    .prefetch_related("visitors").order_by("-visited_on", "-pk"), request, size=20)
    return render(request, "visits/portal_visits.html",
                  {"helpers": helpers, "visits": page.rows, "page": page, "form": RespondForm()})


@login_required
@require_POST
def respond(request, pk):
    user = _enterprise_user(request)
    visit = get_object_or_404(Visit.objects.visible_to(user).filter(enterprise_id=user.enterprise_id), pk=pk)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择“确有其事”或“有异议”。")
    else:
        d = form.cleaned_data
        try:
            services.respond_to_visit(user, visit, confirmed=d["confirmed"], rating=d["rating"], comment=d["comment"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "感谢您的反馈。" if d["confirmed"] else "已记录您的异议，督查部门将核实。")
    return redirect("visits_portal:home")
