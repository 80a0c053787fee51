"""The demo's 一公开: every handling unit publishes one 首席专员 and two 具办专员 with an office line, and the public
page of the district shows each unit's figures, equal to the internal rates of the same demands."""

import pytest
from django.test import Client
from django.urls import reverse

from qinqing.accounts.models import Unit
from qinqing.demands.models import Demand
from qinqing.reports import rates
from qinqing.transparency import services as public
from qinqing.transparency.models import MOBILE, ServiceSpecialist
from tests.conftest import NOW, at

pytestmark = pytest.mark.xdist_group("demo")


def test_every_handling_unit_publishes_a_chief_and_two_doers_with_office_lines(demo):
    units = Unit.objects.filter(jurisdiction__path__startswith=demo.path, active=True).exclude(kind="supervision")
    for unit in units:
        posts = sorted(ServiceSpecialist.objects.filter(unit=unit).values_list("post", flat=True))
        assert posts == ["chief", "doer", "doer"], unit.name
    assert not any(MOBILE.search(p.replace("-", "")) for p in ServiceSpecialist.objects.values_list("office_phone", flat=True))


def test_the_public_district_page_agrees_with_the_internal_rates(demo):
    report = public.public_report(demo)
    start, end = public.period(NOW.date())
    internal = rates.live(Demand.objects.filter(jurisdiction__path__startswith=demo.path,
                                                received_at__gte=at(f"{start} 00:00")).exclude(state="merged"),
                          start, end, NOW.date())
    assert report.total.received == internal.counts["n"] > 100
    assert [r.text for r in report.total.shown] == [internal.rate(d).text for d in public.SHOWN]
    page = Client().get(reverse("transparency:jurisdiction", args=[demo.code]))
    assert page.status_code == 200 and "首席专员" in page.content.decode()
