"""The demo's fulfilment ledger: seed 002's pattern on the demo district — 免申即享 batches approved by a second
person for every 免申即享 policy with eligible enterprises, applications with outcomes for the ordinary ones, and
the sentence adding up to the records; the demo enterprise sees what it received."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.urls import reverse

from qinqing.accounts.models import User
from qinqing.fulfilment import ledger
from qinqing.fulfilment.models import Application, Batch, FulfilmentRecord
from qinqing.policies.models import Policy
from tests.conftest import login

pytestmark = pytest.mark.xdist_group("demo")


def test_every_free_policy_with_eligible_enterprises_has_an_approved_batch_by_two_people(demo):
    batches = list(Batch.objects.select_related("policy"))
    assert len(batches) >= 5
    assert all(b.policy.no_application and b.status == "approved" for b in batches)
    assert all(b.prepared_by_id != b.decided_by_id for b in batches)
    for b in batches:
        assert b.records.aggregate(s=Sum("amount"))["s"].quantize(Decimal("0.01")) == b.total_amount
        assert b.records.count() == b.enterprise_count


def test_ordinary_policies_have_applications_with_every_outcome(demo):
    statuses = dict(Application.objects.values_list("status").annotate(n=Count("pk")))
    assert {"submitted", "rejected", "paid"} <= set(statuses)
    assert not Application.objects.filter(policy__no_application=True).exists()
    rejected = Application.objects.filter(status="rejected")
    assert not rejected.filter(reject_reason="").exists() and not rejected.filter(fulfilment__isnull=False).exists()


def test_the_demo_sentence_adds_up_and_has_seed_002s_shape(demo):
    records = FulfilmentRecord.objects.filter(jurisdiction__path__startswith=demo.path)
    figures = ledger.sentence_figures(records)
    paid = records.filter(paid_on__isnull=False)
    assert figures["amount"] == paid.aggregate(s=Sum("amount"))["s"].quantize(Decimal("0.01"))
    assert figures["enterprises"] == paid.values("enterprise").distinct().count()
    assert figures["policies"] == paid.values("policy").distinct().count() <= Policy.objects.count()
    # Like seed 002: most of the money and most beneficiaries come through tax reliefs and grants.
    assert {"tax", "grant"} <= set(figures["types"])
    assert figures["amount"] > Decimal("100") and figures["enterprises"] > 100
    text = ledger.sentence(records)
    assert text.startswith(f"已落实{figures['policies']}项惠企政策，涉及减税降费") and "资金奖补" in text


def test_the_demo_enterprise_sees_what_it_applied_for_and_received(demo):
    owner = User.objects.get(username="qiye")
    shown = (FulfilmentRecord.objects.filter(enterprise_id=owner.enterprise_id).first()
             or Application.objects.filter(enterprise_id=owner.enterprise_id).first())
    assert shown is not None
    page = login(owner).get(reverse("fulfilment:mine")).content.decode()
    assert shown.policy.title in page
