"""Every link a demo user is shown opens, inside the site's frame, and keeps what it asked for.

For each demo login (one per role, as `seed_demo` prints them) the crawler starts at the home page and
follows, breadth first, every same-site GET link it is shown: <a href> and hx-get, filter chips and pager
links included. On each page it reaches it asserts that

* the page answers 200 (a 403/404 reached by a link is a failure too: a link that leads to a refusal
  should not be shown), and downloads answer with an .xlsx or .docx;
* the page is drawn inside the site's frame: the staff header and navigation, or the portal's header
  for an enterprise account;
* every parameter of the link reached the view and shows on the page: a parameter is a plain name (a
  link written as "??page=2" sends one called "?page" that no view reads), the page is the one asked
  for (第N页), every filter value shows as the state of a form control or an active chip (class active,
  is-active, chip-on or aria-current), and the page's pager links keep all its other parameters;
* on the ledger, the three lists and the overdue page, the rows shown belong to the filtered set,
  computed here with the ledger's own filter module (or, for the overdue page, from the demands
  themselves), and the total shown is that set's size.

The walk is bounded: one page per URL name and set of parameter names (PER_KIND for a URL name without
parameters, and as many later pages, none beyond MAX_PAGE), one download per URL name; so every kind of
page and every filter a link sets is covered without visiting every demand (80–100 pages for a dispatcher, about 60 s for the thirteen logins
on SQLite on a busy two-core machine). All failures are collected and reported in one assertion, each with
the page that showed the link.
"""

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve

from qinqing import settings as project_settings
from qinqing.accounts.models import User
from qinqing.demands.filters import filter_demands
from qinqing.demands.lists import LISTS
from qinqing.demands.models import OPEN_STATES, Demand
from qinqing.demo import logins
from qinqing.lib import clock

pytestmark = pytest.mark.xdist_group("demo")

ROLES = (*logins.STAFF, *logins.OWNERS)
SKIPPED_PREFIXES = ("/admin/", "/logout/", "/api/", "/static/", "/media/")
PER_KIND = 2  # pages per URL name without parameters (two demands, two enterprises…), and later pages per URL name
PER_ROLE = 200  # pages a role, downloads included: a safety bound the walk must stay under
MAX_PAGE = 3  # pager links beyond this page are not followed
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Files a page links to: the view answers with a document, not a page.
DOWNLOAD_VIEWS = {"workbench:export", "workbench:download", "workbench:slip", "reports:circular_file",
                  "enterprises:export", "enterprises:template", "enterprises:import_errors"}
ATTACHMENT_VIEWS = {"demands:attachment", "portal:attachment"}  # what an owner uploaded: any type
# Parameters that choose a page or a file rather than filter; checked on their own.
NOT_STATE = {"page", "format"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NUMBER_LINK = re.compile(r"/demands/(QQ\d{4}-\d{6})/\Z")
PAGE_SHOWN = re.compile(r"第(\d+)页")
TOTAL_SHOWN = re.compile(r"共(\d+)条")


@dataclass
class Walk:
    """What one role's crawl saw."""

    username: str
    pages: int = 0
    downloads: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)

    def fail(self, source: str, url: str, problem: str) -> None:
        self.failures.append(f"[{self.username}] {url} (linked from {source}): {problem}")


def _split(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


def _normal(path: str, query: list[tuple[str, str]]) -> str:
    return path + ("?" + urlencode(sorted(query)) if query else "")


def _links(doc, page_url: str) -> list[tuple[str, bool]]:
    """Same-site GET targets shown on a page, resolved against the page's URL: (target, fetched by HTMX)
    for every <a href> and hx-get."""
    found = []
    for element in doc.iter(lxml.etree.Element):
        for attribute in ("href", "hx-get") if element.tag == "a" else ("hx-get",):
            target = element.get(attribute)
            if not target or target.startswith(("#", "javascript:", "mailto:", "tel:")):
                continue
            absolute = urljoin("http://testserver" + page_url, target)
            parts = urlsplit(absolute)
            if parts.netloc != "testserver" or parts.scheme not in ("http", "https"):
                continue
            found.append((absolute[len("http://testserver"):].split("#")[0], attribute == "hx-get"))
    return found


_SHAPES: dict[str, str | None] = {}
_ID = re.compile(r"QQ\d{4}-\d{6}|[0-9A-Z]{18}|\d+")  # demand numbers, credit codes, primary keys


def _view_name(path: str) -> str | None:
    """The URL name of a path, for bounding the walk only: resolved once per shape of path (one demand's
    page stands for every demand's), since resolving each of the thousands of links shown costs seconds."""
    shape = _ID.sub("#", path)
    if shape not in _SHAPES:
        try:
            _SHAPES[shape] = resolve(path).view_name
        except Resolver404:
            _SHAPES[shape] = None
    return _SHAPES[shape]


def _shown_state(doc) -> set[tuple[str, str]]:
    """(name, value) pairs the page shows as chosen: form controls' values and active chips' parameters."""
    state = set()
    for control in doc.iter("input"):
        kind = (control.get("type") or "text").lower()
        if control.get("name") and (kind not in ("checkbox", "radio") or control.get("checked") is not None):
            state.add((control.get("name"), control.get("value") or ""))
    for select in doc.iter("select"):
        for option in select.iter("option"):
            if option.get("selected") is not None:
                state.add((select.get("name"), option.get("value") or ""))
    for textarea in doc.iter("textarea"):
        state.add((textarea.get("name"), textarea.text_content()))
    for link in doc.iter("a"):
        classes = (link.get("class") or "").split()
        if {"active", "is-active", "chip-on"} & set(classes) or link.get("aria-current"):
            state.update(_split(urljoin("http://testserver/", link.get("href") or ""))[1])
    for chip in doc.find_class("chip-on"):  # a saved filter: the chip is a span around its link
        for link in chip.iter("a"):
            state.update(_split(urljoin("http://testserver/", link.get("href") or ""))[1])
    return state


def _in_frame(doc, user) -> bool:
    if user.is_staff_user:
        return bool(doc.xpath('//header[contains(@class, "topbar")]//nav[contains(@class, "mainnav")]'))
    return bool(doc.xpath('//header[contains(@class, "p-header")]'))


def _shown_numbers(doc) -> list[str]:
    numbers = []
    for row in doc.xpath('//table[contains(@class, "grid")]/tbody/tr'):
        for link in row.iter("a"):
            if match := NUMBER_LINK.search(link.get("href") or ""):
                numbers.append(match.group(1))
                break
    return numbers


def _filter_params(query: list[tuple[str, str]]) -> QueryDict:
    """The link's parameters as the ledger reads them (qinqing.demands.views.ledger._params)."""
    params = QueryDict(mutable=True)
    for name, value in query:
        if name in NOT_STATE or (name == "state" and not value):
            continue
        params.appendlist(name, value)
    return params


def _expected_rows(view: str, kwargs: dict, user, query: list[tuple[str, str]]):
    """The demands a filtered list should show, computed apart from the view that shows them."""
    if view == "demands:ledger":
        return filter_demands(Demand.objects.visible_to(user), _filter_params(query) or None)[0]
    if view == "demands:list":
        qs, _form = filter_demands(Demand.objects.visible_to(user), _filter_params(query) or None)
        return LISTS[kwargs["key"]].rows(qs)
    if view == "demands:overdue":
        qs = Demand.objects.visible_to(user).filter(state__in=OPEN_STATES, next_due__lt=clock.today())
        params = dict(query)
        if params.get("stage"):
            qs = qs.filter(current_stage=params["stage"])
        if (params.get("unit") or "").isdigit():
            qs = qs.filter(lead_unit_id=int(params["unit"]))
        return qs
    return None


def _check_page(walk: Walk, user, source: str, url: str, response, view: str, kwargs: dict):
    """Assert what a page must show; returns the parsed page."""
    doc = lxml.html.fromstring(response.content.decode())
    if not _in_frame(doc, user):
        walk.fail(source, url, "the page is not drawn inside the site's frame (header and navigation missing)")
    if response.redirect_chain:  # the link was answered elsewhere (a login, a job page): its query was not for this page
        return doc
    path, query = _split(url)
    sent = [(name, value) for name, values in response.wsgi_request.GET.lists() for value in values]
    if sorted(sent) != sorted(query):
        walk.fail(source, url, f"the view received {sent} instead of the link's {query}")
    for name, _value in query:
        if not NAME.match(name):
            walk.fail(source, url, f"the link carries a parameter named {name!r}, which no view reads "
                                   "(a malformed query string, such as '??')")
    shown = _shown_state(doc)
    for name, value in query:
        if name in NOT_STATE or not NAME.match(name) or not value:
            continue
        if (name, value) not in shown:
            walk.fail(source, url, f"the link's filter {name}={value} is not shown on the page it opens "
                                   "(no form control holds it, no chip is marked active)")
    if page := dict(query).get("page"):
        numbers = PAGE_SHOWN.findall(doc.text_content())
        if numbers and numbers[0] != page:
            walk.fail(source, url, f"the link asks for page {page} and the page shows 第{numbers[0]}页")
    # A pager link keeps every other parameter of the page it is on (a '??' link, or one written by hand
    # as "?page=N", loses the filter).
    kept = sorted((name, value) for name, value in query if name != "page")
    for link in doc.xpath('//nav[contains(@class, "pager")]//a[@href] | //a[contains(., "下一页") or contains(., "上一页")]'):
        target = _split(urljoin("http://testserver" + response.wsgi_request.get_full_path(), link.get("href")))[1]
        if sorted((name, value) for name, value in target if name != "page") != kept:
            walk.fail(source, url, f"its pager link {link.get('href')!r} does not keep the page's parameters {kept}")
    expected = _expected_rows(view, kwargs, user, query)
    if expected is not None:
        numbers = _shown_numbers(doc)
        inside = set(expected.filter(number__in=numbers).values_list("number", flat=True))
        if strays := [n for n in numbers if n not in inside]:
            walk.fail(source, url, f"rows outside the link's filter are shown: {strays[:5]}")
        total = TOTAL_SHOWN.search(doc.text_content())
        if total and int(total.group(1)) != expected.count():
            walk.fail(source, url, f"the page says 共{total.group(1)}条, the filter matches {expected.count()}")
        for name, column, value, allowed in _plain_mismatches(view, query, numbers):
            walk.fail(source, url, f"a row shown has {column}={value!r}, the link's {name} asks for {allowed}")
    return doc


# Filters that name one column, checked on the rows shown without the filter module, which the expected
# rows above reuse: so a filter the module itself stops applying is caught too.
PLAIN_FILTERS = {
    "demands:ledger": {"channel": "channel", "nature": "nature", "state": "state", "enterprise": "enterprise_id"},
    "demands:list": {"channel": "channel", "nature": "nature", "state": "state", "enterprise": "enterprise_id"},
    "demands:overdue": {"stage": "current_stage", "unit": "lead_unit_id"},
}


def _plain_mismatches(view: str, query: list[tuple[str, str]], numbers: list[str]):
    asked = {name: {value for n, value in query if n == name and value}
             for name in PLAIN_FILTERS.get(view, {}) if any(n == name and value for n, value in query)}
    if not asked or not numbers:
        return
    columns = {name: PLAIN_FILTERS[view][name] for name in asked}
    for row in Demand.objects.filter(number__in=numbers).values(*columns.values()):
        for name, column in columns.items():
            if str(row[column]) not in asked[name]:
                yield name, column, row[column], sorted(asked[name])


def _check_download(walk: Walk, source: str, url: str, response, view: str) -> None:
    # A streamed file is read to its end: the test client then finishes the request as a server would
    # (closing the response here instead would close the test's database connection on PostgreSQL).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "").split(";")[0]
    if view in ATTACHMENT_VIEWS:
        return
    if kind not in (XLSX, DOCX):
        walk.fail(source, url, f"a download answered with {kind or 'no content type'}, not .xlsx/.docx")
    elif not body.startswith(b"PK\x03\x04"):  # both are zip packages; their content has tests of their own
        walk.fail(source, url, f"the download ({kind}) is not a zip package")


def _is_download(view: str | None, path: str, query: list[tuple[str, str]]) -> bool:
    return (view in DOWNLOAD_VIEWS or view in ATTACHMENT_VIEWS or path.endswith((".xlsx", ".docx"))
            or dict(query).get("format") in ("xlsx", "docx"))


def crawl(client: Client, user) -> Walk:
    """Breadth-first from "/" over the links `user` is shown; see the module's docstring for the bounds."""
    walk = Walk(user.username)
    queue: deque[tuple[str, str]] = deque([("(start)", "/")])
    seen = {"/"}
    swapped = set()  # targets of hx-get: their partial is fetched too, as HTMX would
    while queue and walk.pages + walk.downloads < PER_ROLE:
        source, url = queue.popleft()
        path, query = _split(url)
        match = None
        try:
            match = resolve(path)
        except Resolver404:
            walk.fail(source, url, "the link leads to no page (no URL pattern matches)")
            continue
        view, kwargs = match.view_name, match.kwargs
        download = _is_download(view, path, query)
        try:
            response = client.get(url, follow=not download)
        except Exception as exc:  # a 500: report it with the others rather than stop the walk
            walk.fail(source, url, f"the page raised {type(exc).__name__}: {exc}")
            continue
        if response.status_code != 200:
            walk.fail(source, url, f"answered {response.status_code}"
                                   + (" (a link that leads to a refusal should not be shown)"
                                      if response.status_code in (403, 404) else ""))
            continue
        if download or response.get("Content-Disposition", "").startswith("attachment"):
            walk.downloads += 1
            _check_download(walk, source, url, response, view)
            continue
        walk.pages += 1
        doc = _check_page(walk, user, source, url, response, view, kwargs)
        if _normal(path, query) in swapped:
            try:
                partial = client.get(url, HTTP_HX_REQUEST="true")
            except Exception as exc:
                walk.fail(source, url, f"its HTMX partial raised {type(exc).__name__}: {exc}")
            else:
                if partial.status_code != 200:
                    walk.fail(source, url, f"its HTMX partial answered {partial.status_code}")
        here = response.wsgi_request.get_full_path()
        for link, by_htmx in _links(doc, here):
            target_path, target_query = _split(link)
            if target_path.startswith(SKIPPED_PREFIXES):
                continue
            try:
                if int(dict(target_query).get("page") or 1) > MAX_PAGE:
                    continue
            except ValueError:
                pass
            normal = _normal(target_path, target_query)
            if by_htmx:
                swapped.add(normal)
            if normal in seen:
                continue
            target_view = _view_name(target_path)
            if _is_download(target_view, target_path, target_query):
                kind = (target_view, "download")
                limit = 1
            elif any(name == "page" for name, _ in target_query):
                # Every page's pager links are checked where they are shown; following a few per view is
                # enough to see a later page open with its filter (第N页, the rows).
                kind = (target_view, "paged")
                limit = PER_KIND
            else:  # one page per set of parameter names: each filter a link sets is tried once
                kind = (target_view, tuple(sorted({name for name, _ in target_query})))
                limit = 1 if target_query else PER_KIND
            if target_view is not None and walk.kinds[kind] >= limit:
                continue
            walk.kinds[kind] += 1
            seen.add(normal)
            queue.append((here, link))
    return walk


@pytest.fixture
def seeded_media(settings):
    """The demo's stored files (its circulars' Word and Excel) were written while the package loaded it, under
    the project's MEDIA_ROOT; each test otherwise gets an empty folder of its own (tests/conftest.py)."""
    settings.MEDIA_ROOT = project_settings.MEDIA_ROOT


@pytest.mark.parametrize("username", ROLES)
def test_every_link_a_demo_user_is_shown_opens_in_the_frame_with_what_it_asked_for(demo, seeded_media, username):
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    started = time.perf_counter()
    walk = crawl(client, user)
    elapsed = time.perf_counter() - started
    assert walk.pages > 5, f"{username} reached only {walk.pages} pages from the home page"
    assert walk.pages + walk.downloads < PER_ROLE, (f"{username}'s walk was cut at {PER_ROLE} pages: some kinds "
                                                    "of page may not have been reached (lower PER_KIND)")
    assert not walk.failures, (f"{len(walk.failures)} broken links for {username} "
                               f"({walk.pages} pages, {walk.downloads} downloads, {elapsed:.1f} s):\n"
                               + "\n".join(walk.failures))
