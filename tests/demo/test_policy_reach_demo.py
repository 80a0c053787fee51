"""The demo's policy reach: pushes replayed since each policy was published, so a policy page shows who was
told in time and who opened it, and the demo owners find 惠企政策 messages in their centre."""

import pytest

from qinqing.accounts.models import User
from qinqing.notifications.models import Notification
from qinqing.policies import reach
from qinqing.policies.models import Policy, PolicyPush
from tests.conftest import login

pytestmark = pytest.mark.xdist_group("demo")


def test_current_policies_were_pushed_once_per_stage_and_some_were_opened(demo):
    assert PolicyPush.objects.exists()
    assert not PolicyPush.objects.filter(sms_due=True).exists()  # history: nothing left for the worker to send
    shown = []
    for policy in Policy.objects.current().exclude(apply_closes=None).select_related("jurisdiction"):
        figures = reach.figures(policy)
        assert figures.aware <= figures.eligible and figures.opened <= figures.eligible
        shown.append(figures)
    assert any(f.aware for f in shown)  # told in time (every demo enterprise has a registered mobile)
    assert any(f.opened for f in shown)


def test_the_demo_factory_owner_has_policy_messages_that_open_the_policy(demo):
    owner = User.objects.get(username="qiye")
    note = Notification.objects.filter(recipient=owner, policy_notice__isnull=False).first()
    assert note is not None and "惠企政策" in note.text
    response = login(owner).get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/policies/")
