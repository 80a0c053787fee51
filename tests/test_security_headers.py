"""Transport and browser (OWASP ASVS level 2): the Content-Security-Policy and framing headers, HTTPS behind
a proxy (HSTS, Secure cookies, the redirect), `check --deploy` clean for a production configuration, the
published development key refused, no inline script or handler in any template, and in Chromium the
dashboard's charts, the ledger's htmx updates and the admin working under the policy."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path, reverse

from qinqing.demands import services
from qinqing.demands.models import Channel

from .browser import CHROMIUM
from .conftest import login
from .test_e2e_loop import DESKTOP, Actor

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(p for p in (ROOT / "qinqing").rglob("*.html") if "templates" in p.parts)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_every_page_carries_a_strict_content_security_policy(world):
    policy = directives(login(world.dispatcher).get("/demands/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_pages_may_not_be_framed_and_say_what_they_are(db):
    response = Client().get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_and_csrf_cookies_are_not_secure_only_over_plain_http_by_default(world):
    client = Client()
    client.post(reverse("login"), {"username": "leader", "password": "pw-leader"})
    assert client.cookies["sessionid"]["httponly"]
    assert not client.cookies["sessionid"]["secure"]  # `make run` serves http://127.0.0.1:8000


# --- Production settings, read in a fresh process with the environment a deployment sets ---------------

def production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "DEBUG", "QINQING_DEMO", "QINQING_HTTPS", "ALLOWED_HOSTS", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="qinqing.settings", QINQING_VAR_DIR=str(tmp_path / "var"), DEBUG="false",
               SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="qinqing.example.gov.cn", QINQING_HTTPS="true")
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_finds_nothing_to_fix_in_a_production_configuration(tmp_path):
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_flags_the_published_development_key(tmp_path):
    done = run(["manage.py", "check", "--deploy"], production_env(tmp_path, SECRET_KEY=None))
    assert done.returncode != 0
    assert "qinqing.E001" in done.stderr and "SECRET_KEY 未设置" in done.stderr


def test_the_server_refuses_to_start_with_the_published_key_unless_it_is_the_demo(tmp_path):
    load = ["-c", "import qinqing.wsgi"]
    refused = run(load, production_env(tmp_path, SECRET_KEY=None))
    assert refused.returncode != 0
    assert "SECRET_KEY 未设置" in refused.stderr and "QINQING_DEMO=true" in refused.stderr
    assert run(load, production_env(tmp_path, SECRET_KEY=None, QINQING_DEMO="true")).returncode == 0
    assert run(load, production_env(tmp_path, SECRET_KEY=None, DEBUG="true")).returncode == 0
    assert run(load, production_env(tmp_path)).returncode == 0  # a key of its own


HTTPS_SETTINGS = ["SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                  "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"]


@pytest.fixture
def https_settings(tmp_path) -> dict:
    """The HTTPS settings exactly as qinqing/settings.py computes them with QINQING_HTTPS=true."""
    script = ("import json; from django.conf import settings; "
              f"print(json.dumps({{n: getattr(settings, n) for n in {HTTPS_SETTINGS!r}}}))")
    done = run(["-c", f"import django; django.setup(); {script}"], production_env(tmp_path))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["SECURE_PROXY_SSL_HEADER"] = tuple(found["SECURE_PROXY_SSL_HEADER"])
    return found


def test_behind_the_https_proxy_cookies_are_secure_and_browsers_are_told_to_stay_on_https(world, https_settings):
    assert https_settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert https_settings["SECURE_HSTS_SECONDS"] == 31536000 and not https_settings["SECURE_HSTS_PRELOAD"]
    with override_settings(**https_settings):
        plain = Client().get("/demands/?state=received")
        assert plain.status_code == 301
        assert plain["Location"] == "https://testserver/demands/?state=received"

        client = Client(HTTP_X_FORWARDED_PROTO="https")
        page = client.get(reverse("login"))
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert client.cookies["csrftoken"]["secure"]
        client.post(reverse("login"), {"username": "leader", "password": "pw-leader"})
        assert client.cookies["sessionid"]["secure"] and client.cookies["sessionid"]["httponly"]


# --- Templates ----------------------------------------------------------------------------------------

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_handler_or_style_attribute():
    assert len(TEMPLATES) > 50
    found = []
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(ROOT)
        found += [f"{name}: <script{attrs}>" for attrs in SCRIPT_TAG.findall(text) if "src=" not in attrs]
        found += [f"{name}: {m.group().strip()}" for m in HANDLER.finditer(text)]
        found += [f"{name}: {m.group().strip()}" for m in STYLE_ATTRIBUTE.finditer(text)]
        if "javascript:" in text:
            found.append(f"{name}: javascript: URL")
    assert found == []


def test_the_template_check_would_catch_what_it_looks_for():
    text = '<script>alert(1)</script><a onclick="x()"><span style="width: 3px">'
    assert [a for a in SCRIPT_TAG.findall(text) if "src=" not in a] == [""]
    assert HANDLER.search(text) and STYLE_ATTRIBUTE.search(text)


def broken(request):
    raise RuntimeError("the database went away")


urlpatterns = [path("broken/", broken)]
handler500 = "qinqing.accounts.errorpages.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_the_self_contained_500_page_allows_exactly_its_own_style_block(db):
    import base64
    import hashlib

    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    css = re.search(r"<style>(.*?)</style>", response.content.decode(), re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert directives(response)["style-src"] == ["'self'", f"'sha256-{digest}'"]


# --- In Chromium --------------------------------------------------------------------------------------

class Watched(Actor):
    """An Actor whose browser reports every Content-Security-Policy violation and script error."""

    def __init__(self, chromium, base_url, user, viewport, prefix):
        self.violations = []
        super().__init__(chromium, base_url, user, viewport, prefix)

    def open(self, path):
        if not getattr(self, "_watching", False):
            self._watching = True
            self.page.on("console", lambda m: self.violations.append(f"{self.page.url}: {m.text}")
                         if m.type == "error" and "Content Security Policy" in m.text else None)
            self.page.on("pageerror", lambda e: self.violations.append(f"pageerror: {e}"))
        return super().open(path)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true", reason="Chromium is missing")
def test_charts_htmx_and_the_admin_work_under_the_policy_in_chromium(browser, live_server, world):
    from qinqing.reports import rollup

    for title in ("融资担保费用偏高", "技术工人招聘困难", "厂房租金上涨"):
        services.receive_demand(world.owner, channel=Channel.ONLINE, title=title, content=f"{title}，请协助。")
    rollup.refresh()
    base = live_server.url

    leader = Watched(browser, base, world.leader, DESKTOP, "csp")
    leader.open("/reports/dashboard/")
    page = leader.page
    page.wait_for_selector(".dash-panel.has-chart canvas")  # ECharts drew from dashboard.js
    assert page.locator(".dash-panel.has-chart canvas").count() >= 3
    ring = page.locator(".dash-panel[data-chart=channel] canvas").first.bounding_box()
    side = min(ring["width"], ring["height"])  # the pie's ring runs from 35 % to 70 % of half of this
    page.mouse.move(ring["x"] + ring["width"] / 2 + side * 0.26, ring["y"] + ring["height"] / 2, steps=5)
    page.wait_for_timeout(300)  # its tooltip shows (ECharts' HTML tooltips carried inline styles)
    leader.shot("dashboard")
    for address in ("/account/", "/account/password/", "/account/2fa/", "/reports/briefing/"):
        assert leader.open(address).status == 200

    dispatcher = Watched(browser, base, world.dispatcher, DESKTOP, "csp")
    dispatcher.open("/demands/")
    page = dispatcher.page
    page.fill("#id_q", "融资")  # htmx updates the results as one types
    from playwright.sync_api import expect
    expect(page.locator("#results td.c-number")).to_have_count(1)
    page.fill("#id_q", "")
    page.select_option("#id_state", "received")  # a change of any other field updates them too
    expect(page).to_have_url(re.compile(r"state=received"))
    expect(page.locator("#results td.c-number")).to_have_count(3)

    admin = Watched(browser, base, world.admin, DESKTOP, "csp")
    for address in ("/admin/", f"/admin/accounts/user/{world.handler.pk}/change/", "/admin/accounts/user/add/"):
        assert admin.open(address).status == 200
    admin.page.locator(".related-widget-wrapper select, select").first.wait_for()
    admin.shot("admin-user")

    assert leader.violations + dispatcher.violations + admin.violations == []
