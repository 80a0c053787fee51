"""On the demo district, the briefing reproduces seed 000's first section exactly.

The demo is loaded once for the package (tests/demo/conftest.py) and rolled back afterwards.
"""

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.http import QueryDict

from qinqing.accounts.models import User
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import Demand
from qinqing.demo import figures
from qinqing.reports import rollup, stats
from qinqing.reports.briefing import build_briefing

from ..conftest import on_day

pytestmark = pytest.mark.xdist_group("demo")


AS_OF = dt.date(2026, 11, 27)
SEED_000 = ("2026年3月2日至4月30日，共走访区内民营企业930家（“四上”企业549家、“四下”存在困难的企业381家）。"
            "其中工业307家、建筑业182家、农林牧业53家、批发零售业79家、餐饮住宿业133家、交通运输业22家、"
            "房地产业38家、服务业及其他116家。召开250次宣讲会和座谈会，收集到企业反映的困难和问题2200件，"
            "涉及准入难110件、融资难484件、降本增效难594件、政策落地难286件、引才用工难308件、创业难66件、"
            "转型升级难175件，其它问题177件。截至2026年11月27日，已办结1606件，区级研究推进585件，移送市级研究9件。")


@pytest.mark.django_db
def test_the_briefing_on_the_demo_district_is_seed_000s_paragraph(demo):
    briefing = build_briefing(demo, figures.CAMPAIGN_START, figures.CAMPAIGN_END, AS_OF)
    assert briefing.text == SEED_000

    # Each demand figure is also the count of the ledger it links to, for the district's leader.
    leader = User.objects.get(username="quzhang")
    d = briefing.demands
    for item in [d.total, *d.by_category, d.closed, d.long_term, d.transferred]:
        qs, form = filter_demands(Demand.objects.visible_to(leader), QueryDict(urlsplit(item.url).query))
        assert form.is_valid() and qs.count() == item.value, item.label

    out = io.StringIO()
    with on_day(AS_OF):
        call_command("briefing", "--from", "2026-03-02", "--to", "2026-04-30", "--jurisdiction",
                     figures.DISTRICT_CODE, stdout=out)
    assert out.getvalue().strip() == SEED_000


@pytest.mark.django_db
def test_the_demo_dashboard_adds_up_to_the_ledger(demo):
    rollup.rebuild()
    board = stats.dashboard(demo, stats.Period(figures.CAMPAIGN_START, figures.CAMPAIGN_END), AS_OF)
    leader = User.objects.get(username="quzhang")
    for item in [board.total, *board.by_category, *board.by_state, *board.by_channel]:
        qs, form = filter_demands(Demand.objects.visible_to(leader), QueryDict(urlsplit(item.url).query))
        assert qs.count() == item.value, item.label
    assert board.total.value >= figures.DEMANDS


@pytest.mark.django_db
def test_the_leaders_default_dashboard_shows_a_district_at_work(demo):
    """The last twelve weeks: demands closed, under study and at the city, rates of a district at work."""
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(User.objects.get(username="quzhang"))
    response = client.get(reverse("reports:dashboard"))
    board = response.context["board"]
    assert response.context["chosen"] == "12w" and len(board.trend) == 12
    cards = {i.label: i.value for i in board.cards}
    assert cards["已办结"] > 50 and cards["区级研究推进"] > 0 and cards["移送市级"] > 0
    assert all(week.value > 0 for week in board.trend)
    ontime = [r.value for r in board.rate_set.ontime]
    assert all(v is not None and 0 < v <= 100 for v in ontime) and any(v < 100 for v in ontime)
    assert 50 < board.rate_set.satisfaction.value < 100


@pytest.mark.django_db
def test_the_demo_has_notices_circulars_and_pages_that_open(demo):
    from django.test import Client
    from django.urls import reverse

    from qinqing.reports.models import Circular
    from qinqing.supervision.models import NoticeStatus, SupervisionNotice

    assert SupervisionNotice.objects.count() == 3
    assert SupervisionNotice.objects.filter(status=NoticeStatus.ANSWERED).count() == 1
    assert set(Circular.objects.values_list("kind", flat=True)) == {"weekly", "half_monthly", "monthly"}
    client = Client()
    client.force_login(User.objects.get(username="ducha"))
    for name in ("reports:dashboard", "reports:circulars", "supervision:board", "supervision:assessment"):
        assert client.get(reverse(name)).status_code == 200, name
