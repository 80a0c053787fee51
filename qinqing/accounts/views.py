"""Sign-in and the staff workbench (工作台): counts that lead straight into the filtered ledger."""

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from qinqing.demands.filters import LEDGER_ORDER
from qinqing.demands.models import OPEN_STATES, Demand, Extension, Stage, State
from qinqing.lib import clock
from qinqing.supervision.models import NoticeStatus, SupervisionNotice

from .models import Role


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def _ledger(**params) -> str:
    query = urlencode(params, doseq=True)
    return f"{reverse('demands:ledger')}?{query}" if query else reverse("demands:ledger")


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _card(label, count, url, tone="", hint=""):
    return {"label": label, "count": count, "url": url, "tone": tone if count else "", "hint": hint}


def _dispatcher_cards(visible, today):
    c = visible.aggregate(
        received=Count("pk", filter=Q(state=State.RECEIVED)),
        returned=Count("pk", filter=Q(state=State.RETURNED)),
        late=Count("pk", filter=Q(state__in=OPEN_STATES, current_stage=Stage.DISPATCH, next_due__lt=today)),
        replied=Count("pk", filter=Q(state=State.REPLIED)),
        evaluated=Count("pk", filter=Q(state=State.EVALUATED)),
    )
    pending = Extension.objects.filter(status=Extension.Status.PENDING, demand__in=visible).count()
    inbox = reverse("demands:dispatch_inbox")
    return [
        _card("待交办", c["received"], _ledger(state="received"), "orange", "1个工作日内交办"),
        _card("退回待重新交办", c["returned"], _ledger(state="returned"), "red"),
        _card("交办超期", c["late"], _ledger(overdue="dispatch"), "red"),
        _card("延期待审批", pending, inbox, "gold"),
        _card("已答复待回访", c["replied"], _ledger(state="replied"), "purple"),
        _card("已评价待销号", c["evaluated"], _ledger(state="evaluated"), "purple"),
    ]


def _unit_cards(visible, unit, today):
    mine = visible.filter(Q(lead_unit=unit) | Q(pk__in=unit.co_demands.values("pk")))
    c = mine.aggregate(
        to_accept=Count("pk", filter=Q(lead_unit=unit, state=State.DISPATCHED)),
        handling=Count("pk", filter=Q(state__in=OPEN_STATES)),
        late=Count("pk", filter=Q(state__in=OPEN_STATES, next_due__lt=today)),
        today=Count("pk", filter=Q(state__in=OPEN_STATES, next_due=today)),
        replied=Count("pk", filter=Q(state=State.REPLIED)),
    )
    # 督办单 addressed to the unit and still awaiting its written answer, over the same visible demands
    # as the list the card opens, so the count equals the rows there.
    notices = SupervisionNotice.objects.filter(demand__in=visible, unit=unit, status=NoticeStatus.ISSUED).count()
    notices_url = f"{reverse('supervision:notices')}?{urlencode({'unit': unit.pk, 'status': NoticeStatus.ISSUED})}"
    return [
        _card("待签收", c["to_accept"], _ledger(unit=unit.pk, state="dispatched"), "blue"),
        _card("办理中", c["handling"], _ledger(unit=unit.pk, group="open"), "cyan"),
        _card("今日到期", c["today"], reverse("demands:unit_inbox"), "orange"),
        _card("已超期", c["late"], _ledger(unit=unit.pk, overdue="any"), "red"),
        _card("已答复待评价", c["replied"], _ledger(unit=unit.pk, state="replied"), "purple"),
        _card("督办单待答复", notices, notices_url, "red", "逾期未反馈将升级督办" if notices else ""),
    ]


def _specialist_cards(visible, user, today):
    """为企服务专员: the demands of the enterprises they serve (their whole visible set)."""
    month_start = today.replace(day=1)
    c = visible.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        waiting=Count("pk", filter=Q(state__in=[State.RECEIVED, State.RETURNED])),
        late=Count("pk", filter=Q(state__in=OPEN_STATES, next_due__lt=today)),
        callback=Count("pk", filter=Q(state=State.REPLIED)),
        month=Count("pk", filter=Q(received_at__gte=_local_midnight(month_start))),
    )
    served = user.specialist_for.count()
    return [
        _card("服务企业在办", c["open"], _ledger(group="open"), "cyan", f"服务企业{served}家"),
        _card("等待交办", c["waiting"], _ledger(state=["received", "returned"]), "orange"),
        _card("已超期", c["late"], _ledger(overdue="any"), "red"),
        _card("已答复待回访", c["callback"], _ledger(state="replied"), "purple", "企业未评价的可代为回访"),
        _card("本月新受理", c["month"], _ledger(received_from=month_start.isoformat())),
    ]


def _supervision_cards(visible, today):
    late = visible.filter(state__in=OPEN_STATES, next_due__lt=today)
    by_stage = dict(late.order_by().values_list("current_stage").annotate(n=Count("pk")))
    cards = [_card("超期合计", sum(by_stage.values()), reverse("demands:overdue"), "red")]
    cards += [_card(f"{label}环节超期", by_stage.get(value, 0), _ledger(overdue=value), "red")
              for value, label in Stage.choices]
    return cards


def _leader_rates(user, today):
    """The rates of the dashboard's default range for the leader's own jurisdiction, computed by the very
    function the dashboard uses, so the two pages show the same figures for the same period."""
    from qinqing.reports import rollup, stats

    node = stats.default_jurisdiction(user)
    if node is None:
        return None
    url = f"{reverse('reports:dashboard')}?jurisdiction={node.code}"
    freshness = rollup.refresh_for_reading()
    if freshness.refreshed_at is None:  # never built yet: rates over an empty rollup would read 0 %
        return {"node": node, "set": None, "url": url}
    return {"node": node, "set": stats.dashboard_rates(node, stats.recent_weeks(today), today), "url": url,
            "pending": freshness.pending}


def _leader_summary(visible, user, today):
    year_start = today.replace(month=1, day=1)
    # A demand handed between levels is received once: a linked copy at the receiving level (qinqing.handoffs)
    # is not a new receipt, and its closure is the hand-back of its reply, not a 销号.
    original = Q(handed_from__isnull=True)
    c = visible.exclude(state=State.MERGED).aggregate(
        year=Count("pk", filter=Q(received_at__gte=_local_midnight(year_start)) & original),
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        closed=Count("pk", filter=Q(state=State.CLOSED) & original),
        long_term=Count("pk", filter=Q(state=State.LONG_TERM)),
        transferred=Count("pk", filter=Q(state=State.TRANSFERRED)),
        late=Count("pk", filter=Q(state__in=OPEN_STATES, next_due__lt=today)),
    )
    return {
        "counts": c, "rates": _leader_rates(user, today),
        "cards": [
            _card(f"{today.year}年受理", c["year"], _ledger(received_from=year_start.isoformat())),
            _card("办理中", c["open"], _ledger(group="open"), "cyan"),
            _card("已办结", c["closed"], _ledger(group="done"), "green"),
            _card("区级研究推进", c["long_term"], _ledger(group="long_term"), "gold"),
            _card("移送市级", c["transferred"], _ledger(group="transferred"), "gold"),
            _card("超期未办", c["late"], reverse("demands:overdue"), "red"),
        ],
    }


@login_required
def home(request):
    user = request.user
    if not user.is_staff_user:
        if user.has_role(Role.ENTERPRISE):
            return redirect(reverse("portal:home"))
        raise Http404("您的账号尚未分配角色，请联系管理员。")
    today = clock.today()
    visible = Demand.objects.visible_to(user)
    admin = user.is_superuser or user.has_role(Role.ADMIN)
    sections = []
    queue = []
    if admin or user.has_role(Role.DISPATCHER):
        sections.append({"title": "交办与销号", "cards": _dispatcher_cards(visible, today),
                         "more": reverse("demands:dispatch_inbox"), "more_label": "进入交办箱"})
        queue = list(visible.filter(state__in=[State.RECEIVED, State.RETURNED])
                     .select_related("enterprise", "category", "lead_unit", "jurisdiction")
                     .order_by(*LEDGER_ORDER)[:8])
    nearest = []
    if user.unit_id and user.has_role(Role.HANDLER, Role.UNIT_HEAD):
        sections.append({"title": f"本单位 · {user.unit.name}", "cards": _unit_cards(visible, user.unit, today),
                         "more": reverse("demands:unit_inbox"), "more_label": "进入本单位"})
        nearest = list(visible.filter(lead_unit=user.unit, state__in=OPEN_STATES)
                       .select_related("enterprise", "category", "lead_unit", "jurisdiction")
                       .order_by(*LEDGER_ORDER)[:8])
    if admin or user.has_role(Role.SUPERVISOR):
        sections.append({"title": "超期督办", "cards": _supervision_cards(visible, today),
                         "more": reverse("demands:overdue"), "more_label": "进入超期督办"})
    summary = _leader_summary(visible, user, today) if (admin or user.has_role(Role.LEADER)) else None
    callbacks = []
    if user.has_role(Role.SPECIALIST):
        sections.append({"title": "我服务的企业", "cards": _specialist_cards(visible, user, today),
                         "more": reverse("demands:ledger"), "more_label": "诉求台账"})
        callbacks = list(visible.filter(state=State.REPLIED)
                         .select_related("enterprise", "category", "lead_unit", "jurisdiction")
                         .order_by("replied_at", "id")[:8])
    recent = []
    if user.has_role(Role.SPECIALIST) or not (sections or summary):
        recent = list(visible.select_related("enterprise", "category", "lead_unit", "jurisdiction")
                      .order_by("-received_at", "-id")[:10])
    return render(request, "accounts/home.html", {
        "sections": sections, "summary": summary, "nearest": nearest, "queue": queue, "recent": recent, "today": today,
        "callbacks": callbacks,
    })
