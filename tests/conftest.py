"""Shared fixtures: a small province with two districts, their units, one user per role,
and enterprises carrying real unified social credit codes from the reference data."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from qinqing.accounts.models import ApiToken, Jurisdiction, Role, RoleGrant, Unit, User
from qinqing.demands import services
from qinqing.demands.models import Category, Channel
from qinqing.enterprises.models import Enterprise, Helpers, Sector

# The `browser` fixture of the browser tests (tests/browser.py), shared by their modules.
pytest_plugins = ["tests.browser"]

DATA = Path(__file__).parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def real_codes() -> list[str]:
    return (DATA / "uscc_gb32100" / "python-stdnum_valid_uscc_unnamed.txt").read_text().split()


def at(text: str) -> dt.datetime:
    """An aware Asia/Shanghai datetime from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# The moment every test starts at, whatever day the suite runs on: a Thursday, a working day. Tests that
# need another day travel there with `on_day` (the process clock moves, so the product's clock does too).
NOW = at("2026-12-03 10:00")


def on_day(day: dt.date, hour: str = "10:00"):
    """Travel the whole process to `day` at `hour` (Asia/Shanghai) for a `with` block."""
    return time_machine.travel(at(f"{day.isoformat()} {hour}"), tick=True)


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    """Session fixtures (the demo district) are built at NOW too, not on the machine's date."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """MD5 for the whole session, session fixtures included: the demo's users would otherwise be hashed
    with PBKDF2, slow to write and unreadable to the tests, which check passwords with MD5 only."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _clock():
    """Each test starts at NOW; time then runs, so timeline entries keep their order."""
    with time_machine.travel(NOW, tick=True):
        yield


def make_user(username, *roles, **fields) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, **fields)
    for role in roles:
        RoleGrant.objects.create(user=user, role=role)
    return user


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The calendar is cached per process; a rolled-back test must not leave its days behind.
    from qinqing.demands import taxonomy
    from qinqing.workdays.calendar import invalidate

    invalidate()
    taxonomy.invalidate()
    yield
    HUEY.immediate = True


class World:
    """The fixture world, with attribute names that read well in tests."""


@pytest.fixture
def world(db) -> World:
    w = World()
    w.province = Jurisdiction.objects.create(code="440000", name="广东省", level="province")
    w.city = Jurisdiction.objects.create(code="440300", name="深圳市", level="city", parent=w.province)
    w.district = Jurisdiction.objects.create(code="440305", name="南山区", level="district", parent=w.city)
    w.town = Jurisdiction.objects.create(code="440305001", name="南头街道", level="town", parent=w.district)
    w.other_district = Jurisdiction.objects.create(code="440306", name="宝安区", level="district", parent=w.city)
    w.other_town = Jurisdiction.objects.create(code="440306001", name="新安街道", level="town",
                                               parent=w.other_district)

    w.joint_office = Unit.objects.create(name="南山区营商环境办公室", kind="joint_office", jurisdiction=w.district)
    w.bureau = Unit.objects.create(name="南山区人力资源局", kind="department", jurisdiction=w.district)
    w.finance = Unit.objects.create(name="南山区金融工作局", kind="department", jurisdiction=w.district)
    w.other_unit = Unit.objects.create(name="宝安区人力资源局", kind="department", jurisdiction=w.other_district)

    w.dispatcher = make_user("dispatcher", Role.DISPATCHER, full_name="赵调度", jurisdiction=w.district,
                             unit=w.joint_office)
    w.handler = make_user("handler", Role.HANDLER, full_name="钱承办", unit=w.bureau, jurisdiction=w.district)
    w.head = make_user("head", Role.UNIT_HEAD, full_name="孙局长", unit=w.bureau, jurisdiction=w.district)
    w.co_handler = make_user("cohandler", Role.HANDLER, full_name="李协办", unit=w.finance,
                             jurisdiction=w.district)
    w.other_handler = make_user("otherhandler", Role.HANDLER, full_name="周外区", unit=w.other_unit,
                                jurisdiction=w.other_district)
    w.other_dispatcher = make_user("otherdispatcher", Role.DISPATCHER, full_name="吴外区",
                                   jurisdiction=w.other_district)
    w.supervisor = make_user("supervisor", Role.SUPERVISOR, full_name="郑督查", jurisdiction=w.district)
    w.leader = make_user("leader", Role.LEADER, full_name="王区长", jurisdiction=w.district)
    w.specialist = make_user("specialist", Role.SPECIALIST, full_name="冯专员", jurisdiction=w.district)
    w.admin = make_user("admin", Role.ADMIN, full_name="陈管理", is_staff=True, is_superuser=True)

    codes = real_codes()
    w.enterprise = Enterprise.objects.create(
        name="深圳市南头精密制造有限公司", credit_code=codes[0], sector=Sector.INDUSTRY, jurisdiction=w.town,
        is_four_above=True, contact_name="林总", contact_phone="13800000001")
    Helpers.objects.create(enterprise=w.enterprise, service_specialist=w.specialist)
    w.other_enterprise = Enterprise.objects.create(
        name="深圳市新安物流有限公司", credit_code=codes[1], sector=Sector.TRANSPORT, jurisdiction=w.other_town,
        contact_name="黄总", contact_phone="13800000002")
    w.neighbour = Enterprise.objects.create(
        name="深圳市南山餐饮管理有限公司", credit_code=codes[2], sector=Sector.HOSPITALITY, jurisdiction=w.town)
    w.owner = make_user("owner", Role.ENTERPRISE, full_name="林总", enterprise=w.enterprise)
    w.neighbour_owner = make_user("neighbour", Role.ENTERPRISE, full_name="何总", enterprise=w.neighbour)
    w.other_owner = make_user("otherowner", Role.ENTERPRISE, full_name="黄总", enterprise=w.other_enterprise)

    w.hiring = Category.objects.get(name="引才用工难")
    w.finance_kind = Category.objects.get(name="融资难")
    return w


@pytest.fixture
def demand(world):
    """A demand received on 2026-09-30 10:00 from the enterprise, by the dispatcher."""
    return services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title="技术工人招聘困难",
        content="企业扩产后缺少数控机床操作工约30人，希望人社部门协助对接职业院校。", category=world.hiring,
        received_at=at("2026-09-30 10:00"))


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user)}"}
