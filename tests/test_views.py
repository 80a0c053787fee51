"""The staff web pages as officials meet them: signing in, the workbench, the calendar warning."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from qinqing.demands import services
from qinqing.workdays import calendar as workcal

from .conftest import login, make_user, on_day


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The calendar is cached per process; rows another test rolled back must not linger in it."""
    workcal.invalidate()
    yield
    workcal.invalidate()


def test_the_login_page_renders_in_chinese(db):
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "亲清" in html and "用户名" in html and "密码" in html and "登录" in html


def test_signing_in_with_a_password_lands_on_the_workbench(world):
    client = Client()
    response = client.post(reverse("login"), {"username": "dispatcher", "password": "pw-dispatcher"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "工作台" in response.content.decode()


def test_a_wrong_password_is_explained_in_chinese(world):
    response = Client().post(reverse("login"), {"username": "dispatcher", "password": "nope"})
    assert "用户名或密码不正确" in response.content.decode()


def test_logging_out_takes_a_post_and_ends_the_session(world):
    client = login(world.dispatcher)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("name", ["home", "demands:ledger", "demands:dispatch_inbox", "demands:unit_inbox",
                                  "demands:overdue", "demands:receive"])
def test_anonymous_visitors_are_sent_to_the_login_page(db, name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_enterprise_user_is_sent_from_home_to_the_portal(world):
    response = login(world.owner).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


@pytest.mark.parametrize("name", ["demands:ledger", "demands:dispatch_inbox", "demands:unit_inbox",
                                  "demands:overdue", "demands:receive"])
def test_an_enterprise_user_gets_404_on_staff_lists(world, demand, name):
    assert login(world.owner).get(reverse(name)).status_code == 404


def test_an_enterprise_user_gets_404_on_the_staff_demand_page_even_for_its_own_demand(world, demand):
    assert login(world.owner).get(reverse("demands:detail", args=[demand.number])).status_code == 404


def test_a_dispatcher_sees_undispatched_demands_on_the_workbench(world, demand):
    html = login(world.dispatcher).get(reverse("home")).content.decode()
    assert "待交办" in html
    assert 'href="/demands/?state=received"' in html
    assert "交办箱" in html  # in the navigation
    assert "本单位" not in html


def test_a_handler_sees_the_units_demands_by_nearest_deadline(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    html = login(world.handler).get(reverse("home")).content.decode()
    assert "待签收" in html
    assert f"/demands/?unit={world.bureau.pk}&amp;state=dispatched" in html
    assert demand.number in html  # the nearest-deadline table
    assert "交办箱" not in html


def test_supervision_sees_overdue_counts_by_stage(world, demand):
    html = login(world.supervisor).get(reverse("home")).content.decode()
    assert "超期合计" in html and "交办环节超期" in html
    assert 'href="/demands/?overdue=dispatch"' in html


def test_a_leader_sees_a_short_summary(world, demand):
    html = login(world.leader).get(reverse("home")).content.decode()
    assert "全局概况" in html and "满意率" in html and "办理中" in html


def test_navigation_shows_new_demand_only_to_those_who_may_receive(world):
    assert "新增诉求" in login(world.specialist).get(reverse("home")).content.decode()
    assert "新增诉求" not in login(world.leader).get(reverse("home")).content.decode()


BANNER = "年节假日安排尚未载入，工作日暂按周一至周五计算"


def test_admins_are_warned_when_the_next_45_days_reach_an_unknown_year(world):
    with on_day(dt.date(2026, 12, 1)):
        html = login(world.admin).get(reverse("home")).content.decode()
    assert "2027" + BANNER in html
    assert "/admin/workdays/workdayoverride/" in html


def test_no_warning_while_the_calendar_is_known(world):
    with on_day(dt.date(2026, 6, 1)):
        html = login(world.admin).get(reverse("home")).content.decode()
    assert BANNER not in html


def test_dispatchers_see_the_calendar_warning_too_and_whom_to_ask(world):
    """December dispatches set resolve deadlines a month ahead, in the unknown year."""
    with on_day(dt.date(2026, 12, 1)):
        html = login(world.dispatcher).get(reverse("home")).content.decode()
    assert "2027" + BANNER in html
    assert "请联系系统管理员导入" in html
    assert "/admin/workdays/workdayoverride/" not in html, "a dispatcher cannot open the admin"


def test_other_staff_do_not_see_the_calendar_warning(world):
    with on_day(dt.date(2026, 12, 1)):
        for user in (world.handler, world.leader, world.specialist):
            assert BANNER not in login(user).get(reverse("home")).content.decode()


def test_a_staff_account_without_roles_sees_no_staff_data(world, demand):
    nobody = make_user("nobody")
    assert login(nobody).get(reverse("demands:ledger")).status_code == 404
