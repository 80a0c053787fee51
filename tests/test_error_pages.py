"""Error pages speak Chinese, in the frame their reader knows, with a way back; the API keeps its JSON."""

import json
import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.accounts import errorpages
from qinqing.demands import services
from qinqing.supervision import services as supervision
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("db")

STAFF_FRAME = 'class="topbar"'
PORTAL_FRAME = 'class="p-header"'


def page(response) -> str:
    return response.content.decode()


@override_settings(DEBUG=False)
def test_an_unknown_address_is_a_chinese_404_in_the_staff_frame_with_a_way_home(world):
    response = login(world.handler).get("/no-such-page/")
    html = page(response)
    assert response.status_code == 404
    assert "页面不存在" in html and "Not Found" not in html
    assert STAFF_FRAME in html and PORTAL_FRAME not in html
    assert f'href="{reverse("home")}">返回首页' in html
    assert "钱承办" in html  # the header still says who is signed in


@override_settings(DEBUG=False)
def test_an_enterprise_user_gets_the_404_in_the_portal_frame_and_goes_home_to_the_portal(world):
    response = login(world.owner).get("/no-such-page/")
    html = page(response)
    assert response.status_code == 404 and "页面不存在" in html
    assert PORTAL_FRAME in html and STAFF_FRAME not in html
    assert f'href="{reverse("portal:home")}">返回首页' in html


@override_settings(DEBUG=False)
def test_a_visitor_not_signed_in_gets_a_plain_page_with_a_login_link(world):
    html = page(Client().get("/no-such-page/"))
    assert "页面不存在" in html and "登录</a>" in html
    assert 'class="mainnav"' not in html and PORTAL_FRAME not in html
    assert f'{reverse("login")}?next=/no-such-page/' in html


@override_settings(DEBUG=False)
def test_the_way_back_is_offered_only_for_a_page_of_our_own_site(world):
    client = login(world.handler)
    ours = page(client.get("/no-such-page/", HTTP_REFERER="http://testserver/demands/"))
    assert 'href="http://testserver/demands/">返回上一页' in ours
    elsewhere = page(client.get("/no-such-page/", HTTP_REFERER="https://evil.example.com/phish"))
    assert "返回上一页" not in elsewhere and "evil.example.com" not in elsewhere
    assert "返回上一页" not in page(client.get("/no-such-page/"))


@override_settings(DEBUG=False)
def test_a_view_that_says_why_in_chinese_has_its_reason_shown_but_djangos_english_is_not(world, demand):
    response = login(world.leader).get(reverse("reports:dashboard"), {"jurisdiction": world.other_district.code})
    assert response.status_code == 404 and "该区划不存在或不在您的管辖范围内。" in page(response)
    # get_object_or_404 says "No Demand matches the given query.": the reader gets only the Chinese page.
    response = login(world.neighbour_owner).get(reverse("portal:detail", args=[demand.number]))
    assert response.status_code == 404 and "页面不存在" in page(response) and "matches" not in page(response)
    assert PORTAL_FRAME in page(response)


@override_settings(DEBUG=False)
def test_opening_the_rating_address_in_the_browser_is_a_chinese_405_that_keeps_its_allow_header(world, demand):
    response = login(world.owner).get(reverse("portal:rate", args=[demand.number]))
    html = page(response)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "不能这样打开这个地址" in html and "按钮" in html
    assert PORTAL_FRAME in html and f'href="{reverse("portal:home")}">返回首页' in html


@override_settings(DEBUG=False)
def test_staff_get_the_405_in_the_staff_frame(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    notice = supervision.issue_notice(world.supervisor, demand, requirement="请反馈")
    response = login(world.handler).get(reverse("supervision:notice_answer", args=[notice.pk]),
                                        HTTP_REFERER=f"http://testserver{reverse('supervision:notice', args=[notice.pk])}")
    html = page(response)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "不能这样打开这个地址" in html and STAFF_FRAME in html and PORTAL_FRAME not in html
    assert "返回上一页" in html and "返回首页" in html


@override_settings(DEBUG=False)
def test_a_visitor_opening_a_post_only_address_gets_the_plain_405(world, demand):
    response = Client().get(reverse("portal:rate", args=[demand.number]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "不能这样打开这个地址" in page(response) and "登录</a>" in page(response)


@override_settings(DEBUG=False)
def test_a_stale_form_is_a_chinese_403_not_djangos_csrf_page(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.handler)
    response = client.post(reverse("logout"))
    html = page(response)
    assert response.status_code == 403
    assert "页面已过期" in html and "CSRF verification failed" not in html and "Forbidden" not in html
    assert STAFF_FRAME in html and "返回首页" in html


@override_settings(DEBUG=False)
def test_a_permission_refusal_is_a_chinese_403_in_the_readers_frame(world, rf):
    from django.core.exceptions import PermissionDenied

    request = rf.get("/admin/workdays/")
    request.user = world.owner
    response = errorpages.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "没有权限" in page(response) and PORTAL_FRAME in page(response)


@override_settings(DEBUG=False)
def test_a_crash_shows_the_static_chinese_500_page(world, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr("qinqing.accounts.views.clock.today", broken)
    client = Client(raise_request_exception=False)
    client.force_login(world.handler)
    response = client.get(reverse("home"))
    html = page(response)
    assert response.status_code == 500
    assert "系统出错了" in html and 'href="/">返回首页' in html and "Server Error" not in html


def test_the_500_page_renders_without_a_request_or_the_database():
    with CaptureQueriesContext(connection) as queries:
        response = errorpages.server_error(None)
    assert response.status_code == 500 and "系统出错了" in page(response)
    assert queries.captured_queries == []
    assert "{%" not in page(response) and "{{" not in page(response)


@override_settings(DEBUG=False)
def test_api_addresses_keep_their_json_errors(world):
    client = Client()
    for path in ("/api/v1/no-such-endpoint/", "/api/no-such-version/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")
        body = json.loads(response.content)
        assert body["code"] == "not_found" and "<html" not in response.content.decode()


@override_settings(DEBUG=False)
def test_an_api_crash_answers_json_too(world, rf):
    response = errorpages.server_error(rf.get("/api/v1/demands/"))
    assert response.status_code == 500 and json.loads(response.content)["code"] == "server_error"


@override_settings(DEBUG=False)
def test_a_page_that_has_its_own_body_is_left_alone(world, demand):
    # The settings page answers a refused form with 400 and its own form: the middleware does not touch it.
    response = login(world.handler).post(reverse("notifications:settings"), {"by_sms": "on"})
    assert response.status_code == 400 and "手机号" in page(response)


def links(html: str) -> set[str]:
    """The addresses the page's own content links to (not the header's navigation, which every page has)."""
    main = html.split('<main', 1)[1]
    return {href for href in re.findall(r'href="([^"#]+)"', main) if not href.startswith(("http", "tel:", "mailto:"))}


@pytest.mark.parametrize("role", ["handler", "head", "supervisor", "leader"])
def test_every_link_on_the_notice_pages_answers_for_those_who_see_them(world, demand, role):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    notice = supervision.issue_notice(world.supervisor, demand, requirement="请反馈")
    client = login(getattr(world, role))
    detail = reverse("supervision:notice", args=[notice.pk])
    html = page(client.get(detail))
    crumb = re.search(r'<p class="crumbs"><a href="([^"]+)">督办单</a>', html).group(1)
    assert crumb == reverse("supervision:notices")
    listing = page(client.get(crumb))
    assert notice.number in listing
    for base, found in ((detail, links(html)), (crumb, links(listing))):
        for href in found:
            url = f"{base}{href}" if href.startswith("?") else href
            if url.startswith(("/static/", "/logout/")):
                continue
            assert client.get(url).status_code == 200, f"{role}: {url} on {base}"
