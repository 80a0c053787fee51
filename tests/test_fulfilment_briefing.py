"""Seed 002's sentence in the briefing: written from the fulfilment ledger for the period and jurisdiction, and
its three figures add up to the records behind it."""

import datetime as dt
import io
from decimal import Decimal

from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from qinqing.fulfilment import services
from qinqing.fulfilment.models import FulfilmentRecord
from qinqing.reports.briefing import build_briefing
from tests.conftest import login, on_day
from tests.test_fulfilment_api import _paid_batch
from tests.test_fulfilment_pages import _policy


def _ledger(world):
    """A 免申即享 tax batch paid on 2026-12-03 (30 + 8 万元, two enterprises) and a grant application paid on
    2026-11-20 (12.5万元, the first enterprise again)."""
    with on_day(dt.date(2026, 11, 16)):
        app = services.apply_for_policy(world.owner, _policy(world))
        services.approve_application(world.dispatcher, app, "12.5")
    with on_day(dt.date(2026, 11, 20)):
        services.record_payment(world.dispatcher, app, "2026-11-20")
    _paid_batch(world)


def test_the_briefing_sentence_adds_up_to_the_ledger_for_the_period(world):
    _ledger(world)
    briefing = build_briefing(world.district, dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert briefing.policy_text == "已落实2项惠企政策，涉及减税降费和资金奖补金额共50.5万元，惠及企业2户。"
    paid = FulfilmentRecord.objects.filter(paid_on__range=(dt.date(2026, 11, 1), dt.date(2026, 12, 31)))
    assert paid.aggregate(s=Sum("amount"))["s"] == Decimal("50.50")
    assert paid.values("policy").distinct().count() == 2 and paid.values("enterprise").distinct().count() == 2
    november = build_briefing(world.district, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert november.policy_text == "已落实1项惠企政策，涉及资金奖补金额共12.5万元，惠及企业1户。"
    assert build_briefing(world.other_district, dt.date(2026, 11, 1), dt.date(2026, 12, 31)).policy_text == \
        "本期未登记惠企政策兑现。"


def test_the_briefing_page_and_command_carry_the_sentence(world):
    _ledger(world)
    html = login(world.dispatcher).get(reverse("reports:briefing"), {
        "jurisdiction": world.district.code, "start": "2026-11-01", "end": "2026-12-31"}).content.decode()
    assert "已落实2项惠企政策，涉及减税降费和资金奖补金额共50.5万元，惠及企业2户。" in html
    out = io.StringIO()
    call_command("briefing", "--from", "2026-11-01", "--to", "2026-12-31", "--jurisdiction", world.district.code,
                 "--policies", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "已落实2项惠企政策，涉及减税降费和资金奖补金额共50.5万元，惠及企业2户。"
    plain = io.StringIO()
    call_command("briefing", "--from", "2026-11-01", "--to", "2026-12-31", "--jurisdiction", world.district.code,
                 stdout=plain)
    assert "惠企政策" not in plain.getvalue()
