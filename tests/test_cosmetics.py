"""What a person walking every page noticed, asserted in the HTML (the layout itself: tests/test_e2e_phone.py)."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services
from qinqing.lib import clock
from qinqing.supervision import services as supervision
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Form, Level

from .conftest import login, make_user

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



def test_a_handler_opening_the_dispatch_inbox_is_told_it_is_the_dispatchers_box(world, demand):
    """The demand waits to be dispatched, but not by a handler: no '没有待交办的诉求' while it waits."""
    html = login(world.handler).get("/demands/inbox/dispatch/").content.decode()
    assert "交办箱是调度员（营商办/联席办）的工作箱" in html
    assert "没有待交办的诉求" not in html and demand.number not in html
    assert 'href="/demands/inbox/unit/"' in html, "the handler is pointed to their unit's box"
    dispatcher_html = login(world.dispatcher).get("/demands/inbox/dispatch/").content.decode()
    assert demand.number in dispatcher_html and "工作箱" not in dispatcher_html


def test_the_header_names_a_role_and_a_unit_of_the_same_name_once(world):
    office = Unit.objects.create(name="南山区人民政府督查室", short_name="督查室", kind="department",
                                 jurisdiction=world.district)
    inspector = make_user("inspector", Role.SUPERVISOR, full_name="郑督查", unit=office, jurisdiction=world.district)
    header = _who_roles(login(inspector).get("/").content.decode())
    assert header == "督查室"
    assert _who_roles(login(world.dispatcher).get("/").content.decode()) == "调度员（营商办/联席办） · 南山区营商环境办公室"


def _who_roles(html: str) -> str:
    return re.search(r'<span class="who-roles">(.*?)</span>', html).group(1)


def test_breadcrumbs_end_with_the_page_they_are_on_not_a_dangling_arrow(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    notice = supervision.issue_notice(world.supervisor, demand, requirement="请抓紧联系企业。")
    client = login(world.supervisor)
    pages = {f"/supervision/notices/{notice.pk}/": notice.number,
             f"/supervision/demands/{demand.number}/notice/": "下发督办单"}
    for path, last in pages.items():
        html = client.get(path).content.decode()
        crumbs = re.search(r'class="crumbs">(.*?)</(?:p|div)>', html, re.S).group(1)
        assert crumbs.rstrip().endswith(f"› {last}"), (path, crumbs)


def test_the_portal_visit_confirmation_uses_the_portal_controls_and_leads_back_home(world, duty):
    visit_services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                form=Form.ON_SITE, discussed="了解订单")
    html = login(world.owner).get("/portal/visits/").content.decode()
    assert '<a class="p-back" href="/portal/">' in html
    form = re.search(r'<form[^>]*class="p-form visit-respond".*?</form>', html, re.S).group(0)
    assert form.count('class="p-choice ') == 2 and 'class="p-btn p-btn-primary"' in form
    assert "为企服务专员 · 为企服务专员" not in html, "a duty and a level of the same name are said once"


def test_a_street_light_raised_on_a_visit_is_not_filed_under_hiring_because_it_mentions_staff(world, duty):
    visit = visit_services.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=clock.today(), form=Form.ON_SITE,
        problems=[visit_services.Problem("厂区门前路灯不亮", "路灯不亮已两个月，员工夜班出行不安全，员工多次反映。")])
    assert [d.category.name for d in visit.demands.all()] == ["其它"]


def test_a_hiring_problem_is_still_suggested_as_hiring_and_a_weak_word_only_tips_a_real_one():
    assert services.suggest_category("技术员工招聘难", "企业扩产，招工困难，缺少数控技工").name == "引才用工难"
    assert services.suggest_category("企业注册商标被侵权", "市场上有假冒企业注册商标的产品销售") is None
    assert services.suggest_category("流动资金贷款到期", "希望银行续贷").name == "融资难"
    # A context word adds to the keywords of a kind: 用工 (1) + 员工 (0.5) beats 社保 (1).
    assert services.suggest_category("员工用工紧张", "社保缴费").name == "引才用工难"
