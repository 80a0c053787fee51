"""The demo district, loaded once per test session and shared by every test in this package.

Seeding takes about a minute on SQLite and several on PostgreSQL, so the package loads it once: inside a
transaction that stays open while the package's tests run (each in its own savepoint) and is rolled back
after the last one, so no other test sees it. Under pytest-xdist the package's modules form one group
(`xdist_group("demo")`, with `--dist loadgroup`), so a single worker loads it.
"""

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import transaction

from qinqing.accounts.models import Jurisdiction
from qinqing.demo import figures


@dataclass(frozen=True)
class DemoLoad:
    district: Jurisdiction
    printed: str  # what the first `seed_demo` printed: the login line of every role


@pytest.fixture(scope="package")
def demo_load(django_db_setup, django_db_blocker) -> DemoLoad:
    out = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=out)
        yield DemoLoad(Jurisdiction.objects.get(code=figures.DISTRICT_CODE), out.getvalue())
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_load, db) -> Jurisdiction:
    """The demo's district (seed 000's), in a test of its own that is rolled back to the seeded state."""
    return demo_load.district
