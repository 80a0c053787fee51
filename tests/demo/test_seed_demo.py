"""`manage.py seed_demo` loads seed 000's district exactly, through the services, and only once.

The seed is loaded once for the package (tests/demo/conftest.py); this test checks it and seeds again.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, User
from qinqing.demands.models import Demand, DemandEvent, Extension, Stage, State, Urging
from qinqing.demo import figures, recent
from qinqing.demo.seed import campaign_demands
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock, uscc

pytestmark = pytest.mark.xdist_group("demo")


OPEN_AND_WAITING = (State.RECEIVED, State.RETURNED, State.DISPATCHED, State.ACCEPTED, State.CONTACTED,
                    State.PLANNED, State.REOPENED, State.REPLIED, State.EVALUATED)


def _totals():
    return (Jurisdiction.objects.count(), Enterprise.objects.count(), User.objects.count(),
            Demand.objects.count(), DemandEvent.objects.count(), Urging.objects.count(),
            Extension.objects.count())


def test_seed_demo_loads_seed_000s_district_in_figures_and_a_second_run_changes_nothing(demo, demo_load):

    # The enterprises visited: 930, split by sector and 四上/四下 as the report says.
    district = Jurisdiction.objects.get(code=figures.DISTRICT_CODE)
    visited = Enterprise.objects.filter(jurisdiction__path__startswith=district.path)
    assert visited.count() == 930
    assert dict(visited.values_list("sector").annotate(n=Count("pk"))) == figures.ENTERPRISES_BY_SECTOR
    assert visited.filter(is_four_above=True).count() == 549
    assert visited.filter(is_four_above=False).count() == 381
    assert not visited.filter(is_four_above=True, sector="agriculture").exists()
    assert visited.filter(sector="industry", is_four_above=True).count() > visited.filter(
        sector="industry", is_four_above=False).count()

    # Every credit code is a valid GB 32100 code registered in the enterprise's district.
    codes = list(Enterprise.objects.values_list("credit_code", "jurisdiction__parent__code"))
    assert all(uscc.is_valid(code) and code[2:8] == division for code, division in codes)
    assert len({code for code, _ in codes}) == len(codes)
    assert Enterprise.objects.exclude(jurisdiction__path__startswith=district.path).exists()  # next door
    assert not visited.filter(helpers__service_specialist=None).exists()
    assert not visited.filter(helpers__contact_leader=None).exists()
    assert visited.values("name").distinct().count() == 930

    # The 2,200 campaign demands, by kind and by final state.
    campaign = campaign_demands()
    assert campaign.count() == 2200
    assert dict(campaign.values_list("category__name").annotate(n=Count("pk"))) == figures.DEMANDS_BY_CATEGORY
    assert dict(campaign.values_list("state").annotate(n=Count("pk"))) == {
        State.CLOSED: 1606, State.LONG_TERM: 585, State.TRANSFERRED: 9}
    # ...each with a real timeline written by the services.
    assert not campaign.filter(state=State.CLOSED, evaluation="").exists()
    assert not campaign.filter(state=State.CLOSED, reply="").exists()
    assert DemandEvent.objects.filter(demand__in=campaign, verb="receive").count() == 2200
    assert DemandEvent.objects.filter(demand__in=campaign, verb="close").count() == 1606
    assert campaign.filter(reopen_count__gt=0, state=State.CLOSED).exists()
    assert campaign.filter(return_count__gt=0).exists()
    assert Urging.objects.filter(demand__in=campaign).exists()  # a few were late

    # A user for every role; one login per role is printed.
    granted = set(RoleGrant.objects.values_list("role", flat=True).distinct())
    assert granted >= set(Role.values)
    assert User.objects.get(username="admin").is_superuser
    printed = demo_load.printed
    assert "角色" in printed and "用户名" in printed and "qinqing2026" in printed
    for username in ("admin", "diaodu", "jrb_cbr", "jrb_fzr", "ducha", "quzhang", "zhuanyuan01", "qiye"):
        assert username in printed
    assert User.objects.get(username="diaodu").check_password("qinqing2026")

    # Current work: every open state, overdue ones at every stage, an extension awaiting approval,
    # and the demo enterprise has a reply to rate.
    current = Demand.objects.filter(received_at__date__gt=figures.CAMPAIGN_END)
    assert 60 <= current.filter(state__in=OPEN_AND_WAITING).count() <= 160
    assert set(current.values_list("state", flat=True)) >= set(OPEN_AND_WAITING)
    overdue = current.filter(next_due__lt=clock.today())
    overdue_stages = set(overdue.values_list("current_stage", flat=True))
    assert overdue_stages == set(Stage.values)
    assert Extension.objects.filter(status=Extension.Status.PENDING).exists()
    assert Demand.objects.filter(enterprise__accounts__username="qiye", state=State.REPLIED).exists()

    # The weeks before: replies, evaluations and 销号 in every week the leader's dashboard shows,
    # with some demands under district study or at the city.
    assert recent.verify(district) == []
    finished = current.filter(state__in=(State.CLOSED, State.LONG_TERM, State.TRANSFERRED))
    assert {State.CLOSED, State.LONG_TERM, State.TRANSFERRED} == set(finished.values_list("state", flat=True))
    assert finished.filter(state=State.CLOSED).count() > 50

    # Visibility shows: the neighbouring district's dispatcher sees none of this district's demands.
    neighbour = User.objects.get(username="xb_diaodu")
    visible = Demand.objects.visible_to(neighbour)
    assert visible.exists()
    assert not visible.filter(jurisdiction__path__startswith=district.path).exists()

    before = _totals()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "演示数据已存在" in again.getvalue()
    assert "qinqing2026" in again.getvalue()
    assert _totals() == before
