"""What a person walking every page noticed, asserted in the HTML (the layout itself: tests/test_e2e_phone.py)."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest

from qinqing.lib import clock
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Level

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def duty(world):
    cadre = visit_services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                          jurisdiction=world.district)
    visit_services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                  on=clock.today() - dt.timedelta(days=29))
    return cadre


def test_the_visit_date_starts_at_today_in_the_iso_form_a_date_picker_accepts(world, duty):
    body = login(world.specialist).get(f"/visits/new/?enterprise={world.enterprise.pk}").content.decode()
    field = re.search(r'<input type="date" name="visited_on"[^>]*>', body).group(0)
    assert 'value="2026-12-03"' in field, field


def test_the_dashboard_export_is_named_for_today_not_for_the_end_of_this_week(world):
    """On Thursday 2026-12-03 the current week runs to Sunday the 6th; the figures run to today."""
    response = login(world.leader).get("/reports/dashboard/?format=xlsx")
    assert response.status_code == 200
    disposition = unquote(response["Content-Disposition"])
    assert "统计概览-南山区-20261203.xlsx" in disposition, disposition

