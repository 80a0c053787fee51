"""The demo's cooperation: a 派单目录 for every department, co-units' opinions, escalated demands in the leaders'
queue with 批示, a dispute awaiting the dispatcher, 区级研究推进 demands with and without progress."""

import pytest
from django.urls import reverse

from qinqing.accounts.models import User
from qinqing.cooperation import services
from qinqing.cooperation.models import CatalogueEntry, CoTask, Dispute, DisputeStatus, TaskState
from qinqing.demands.models import Tier
from tests.conftest import login

pytestmark = pytest.mark.xdist_group("demo")


def test_the_demo_has_a_catalogue_opinions_and_a_pending_dispute(demo):
    assert CatalogueEntry.objects.filter(jurisdiction=demo).count() >= 15
    assert CoTask.objects.filter(state=TaskState.ANSWERED).exclude(opinion="").exists()
    assert CoTask.objects.filter(state=TaskState.PENDING).exists()
    assert Dispute.objects.filter(status=DisputeStatus.PENDING).count() == 1
    assert Dispute.objects.filter(status=DisputeStatus.REJECTED).count() == 1


def test_the_district_head_sees_escalated_demands_with_instructions_in_the_queue(demo):
    leader = User.objects.get(username="quzhang")
    joint = list(services.escalation_queue(leader, Tier.JOINT_OFFICE))
    assert len(joint) >= 4
    assert any(d.instructions.exists() for d in joint)
    body = login(leader).get(reverse("cooperation:queue"), {"tier": Tier.DISTRICT_LEADER}).content.decode()
    assert body.count('href="/demands/') >= 2


def test_some_long_term_demands_reported_progress_and_the_others_show_as_stalled(demo):
    supervisor = User.objects.get(username="ducha")
    stalled = services.stalled_long_term(supervisor)
    assert stalled.exists()
    assert stalled.count() < services.Demand.objects.filter(state="long_term", jurisdiction__path__startswith=demo.path).count()
