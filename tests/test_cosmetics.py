"""What a person walking every page noticed, asserted in the HTML (the layout itself: tests/test_e2e_phone.py)."""

import datetime as dt
import re

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
