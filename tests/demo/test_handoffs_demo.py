"""The demo's hand-offs and pauses: the city answered one demand handed up, another waits in its inbox, one demand
is paused and another's pause awaits the dispatcher."""

import pytest
from django.urls import reverse

from qinqing.accounts.models import User
from qinqing.demands.models import Demand, State
from qinqing.handoffs.models import HandOff, Pause
from tests.conftest import login

pytestmark = pytest.mark.xdist_group("demo")


def test_the_city_answered_one_hand_off_and_has_another_in_its_inbox(demo):
    answered = HandOff.objects.get(status=HandOff.Status.ANSWERED)
    assert answered.source.state == State.REPLIED and answered.source.reply == answered.target.reply
    city_dispatcher = User.objects.get(username="shi_diaodu")
    inbox = Demand.objects.visible_to(city_dispatcher).filter(state=State.RECEIVED, handed_from__isnull=False)
    assert inbox.count() == 1
    page = login(city_dispatcher).get(reverse("handoffs:list")).content.decode()
    assert "移入 <strong>2</strong> 件" in page


def test_a_paused_demand_shows_paused_and_a_pause_awaits_the_dispatcher(demo):
    active = Pause.objects.get(status=Pause.Status.ACTIVE)
    assert active.demand.is_paused and active.demand.next_due is None
    assert Pause.objects.filter(status=Pause.Status.PENDING).count() == 1
    dispatcher = User.objects.get(username="diaodu")
    body = login(dispatcher).get(reverse("demands:detail", args=[active.demand.number])).content.decode()
    assert "已挂起" in body
