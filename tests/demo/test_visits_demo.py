"""The demo's contact duties and visits add up to seed 000 and give the neglect lists something to find."""

import pytest

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.models import Channel
from qinqing.demo import figures
from qinqing.demo.visits import SEMINARS_HELD
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from qinqing.visits import queries, stats
from qinqing.visits.models import Assignment, Campaign, ContactUrging, Duty, DutyEvent, Visit

pytestmark = pytest.mark.xdist_group("demo")


def test_the_demo_campaign_visited_930_enterprises_held_250_seminars_and_leaves_some_neglect(demo):
    district = Jurisdiction.objects.get(code=figures.DISTRICT_CODE)
    visited = stats.visited_enterprises(figures.CAMPAIGN_START, figures.CAMPAIGN_END, district)
    assert visited.count() == 930
    assert visited.filter(is_four_above=True).count() == 549
    assert visited.filter(is_four_above=False).count() == 381
    assert stats.seminars_held(figures.CAMPAIGN_START, figures.CAMPAIGN_END, district) == SEMINARS_HELD == 250

    # The campaign's 走访 demands hang off the visits that raised them.
    campaign = Campaign.objects.get()
    linked = Visit.demands.through.objects.filter(visit__campaign=campaign)
    assert linked.count() > 1500
    assert not linked.exclude(demand__channel=Channel.VISIT).exists()
    assert queries.coverage(campaign).percent == 100

    # Every enterprise has one current contact leader and one specialist, matching the registry's pointers.
    ents = Enterprise.objects.filter(jurisdiction__path__startswith=district.path)
    current = Assignment.objects.current()
    assert current.filter(duty=Duty.CONTACT_LEADER).count() == current.filter(duty=Duty.SPECIALIST).count() == 930
    assert not ents.exclude(helpers__service_specialist_id__in=current.filter(duty=Duty.SPECIALIST)
                            .values("cadre__user_id")).exists()

    # Some, not most, are neglected; every visit has its audit line.
    today = clock.today()
    overdue = queries.overdue_contacts(None, today).count()
    assert 0 < overdue < 0.4 * current.count()
    assert ContactUrging.objects.exists()
    assert queries.cadres_below_rate(None, today).exists()
    assert queries.empty_visits(Visit.objects.all()).exists()
    assert queries.disputed_visits(Visit.objects.all()).exists()
    assert DutyEvent.objects.filter(verb=DutyEvent.Verb.RECORD_VISIT).count() == Visit.objects.count()
