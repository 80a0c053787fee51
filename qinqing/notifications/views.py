"""The notification centre: one list for staff and enterprises, each in their own page frame."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Demand
from qinqing.demands.views.common import paginate

from . import services
from .forms import PreferenceForm

PAGE = 30


def _frame(user) -> str:
    """Enterprise accounts see the mobile portal frame; everybody else the staff frame."""
    if user.is_staff_user:
        return "staff"
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
        return "portal"
    raise Http404("您的账号尚未分配角色，请联系管理员。")


@login_required
def centre(request):
    frame = _frame(request.user)
    show = request.GET.get("show", "")
    qs = services.visible_notifications(request.user).select_related("demand")
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    page = paginate(qs.order_by("-created_at", "-id"), request, size=PAGE)
    return render(request, f"notifications/{frame}_centre.html", {"page": page, "show": show})


@login_required
def open_notification(request, pk):
    """Mark it read and go to the demand it is about, on the page this person uses."""
    frame = _frame(request.user)
    note = services.mark_read(request.user, pk)
    if note is None:
        raise Http404("通知不存在")
    if note.demand_id is None:
        from qinqing.policies.reach import notification_target  # a policy push leads to its policy

        return redirect(notification_target(request.user, note) or "notifications:centre")
    if frame == "portal":
        return redirect("portal:detail", number=note.demand.number)
    if not Demand.objects.visible_to(request.user).filter(pk=note.demand_id).exists():
        messages.info(request, "该诉求已不在您的办理范围内（可能已退回或改派）。")
        return redirect("notifications:centre")
    return redirect("demands:detail", number=note.demand.number)


@login_required
@require_POST
def read_all(request):
    _frame(request.user)
    count = services.mark_all_read(request.user)
    messages.success(request, f"已将{count}条通知标为已读。" if count else "没有未读通知。")
    return redirect("notifications:centre")


@login_required
def settings_page(request):
    frame = _frame(request.user)
    user = request.user
    pref = services.preference_for(user)
    form = PreferenceForm(request.POST or None, initial={"by_email": pref.by_email, "by_sms": pref.by_sms})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preferences(user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "通知设置已保存。")
            return redirect(reverse("notifications:settings"))
    return render(request, f"notifications/{frame}_settings.html", {"form": form},
                  status=400 if form.errors else 200)
