"""受理: staff register a demand heard on a visit, a call, a meeting or a seminar."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from qinqing.accounts.models import Role
from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.demands.forms import ReceiveForm
from qinqing.demands.models import Demand

from .common import staff_required

RECEIVER_ROLES = services.RECEIVER_ROLES


def can_receive(user) -> bool:
    return user.is_superuser or user.has_role(*RECEIVER_ROLES, Role.ADMIN)


@staff_required
def receive(request):
    if request.method == "POST":
        form = ReceiveForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                demand = services.receive_demand(request.user, **form.service_kwargs())
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已受理，编号 {demand.number}。")
                if Demand.objects.visible_to(request.user).filter(pk=demand.pk).exists():
                    return redirect(reverse("demands:detail", args=[demand.number]))
                return redirect("home")
    else:
        form = ReceiveForm(user=request.user)
    return render(request, "demands/receive.html", {"form": form, "can_receive": can_receive(request.user)},
                  status=400 if form.is_bound else 200)
