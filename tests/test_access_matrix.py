"""The access matrix as a test: every URL pattern and API operation, for every role and for an outsider of
each kind (another enterprise, another unit, another district, anonymous), against objects out of reach.

Nothing leaks (no other enterprise's or jurisdiction's demand, enterprise or visit; no internal note to an
enterprise), and no write reaches outside the caller's reach: every verb and every creating call with an
out-of-reach target is refused and leaves the shared tables as they were. The expectations live in
tests/access_matrix.py; a URL pattern or API operation without an entry there fails the first two tests.
"""

import io
import json
import zipfile

import pytest
from django.db.models import Count, Max, Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.models import Attachment, Demand, DemandEvent, Extension, Urging
from qinqing.enterprises.models import Enterprise, EnterpriseEvent, Helpers, ImportJob, YearlyFigures
from qinqing.fulfilment.models import Application, Batch, FulfilmentRecord
from qinqing.handling.models import Assignment as HandlingAssignment
from qinqing.handling.models import CannedReply, Watch
from qinqing.notifications.models import Notification
from qinqing.policies.models import Policy, PolicyAttachment
from qinqing.reports.models import Circular
from qinqing.supervision.models import NoticeEvent, SupervisionNotice
from qinqing.transparency.models import DemandImportJob
from qinqing.visits.models import Assignment, Cadre, Campaign, CampaignGroup, CampaignTarget, Seminar, Visit
from qinqing.workbench.models import ExportJob, SavedFilter
from tests import access_matrix as am
from tests.conftest import bearer, login

VERBS = ("dispatch", "return", "accept", "contact", "plan", "request_extension", "approve_extension",
         "reject_extension", "escalate", "mark_long_term", "transfer", "reply", "evaluate", "reopen", "close",
         "merge", "settle")


# ---------------------------------------------------------------- enumeration

def _walk(resolver, prefix="", namespace=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from _walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None


def url_patterns() -> dict:
    """Every URL pattern of the site by name, except Django admin's (its own permission system)."""
    return {name: route for route, name in _walk(get_resolver()) if not route.startswith("admin/")}


def api_operations() -> set[str]:
    from qinqing.api.api import api

    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def test_every_url_pattern_has_an_entry_in_the_access_matrix():
    names = {n for n in url_patterns() if n is not None and not n.startswith("api:")}
    names |= {"api:api-root", "api:openapi-json"}
    missing = sorted(names - set(am.URLS))
    stale = sorted(set(am.URLS) - names)
    assert not missing, f"URL patterns without an access-matrix entry (tests/access_matrix.py URLS): {missing}"
    assert not stale, f"access-matrix entries for URL patterns that no longer exist: {stale}"


def test_every_api_operation_has_an_entry_in_the_access_matrix():
    operations = api_operations()
    missing = sorted(operations - set(am.API))
    stale = sorted(set(am.API) - operations)
    assert not missing, f"API operations without an access-matrix entry (tests/access_matrix.py API): {missing}"
    assert not stale, f"access-matrix entries for API operations that no longer exist: {stale}"
    # Every route under /api/v1/ is an operation of the document, or one of the few declared outside it.
    paths = {op.split(" ", 1)[1] for op in operations}
    for name, route in ((n, r) for r, n in _walk(get_resolver()) if r.startswith("api/")):
        if name in am.API_ROUTES_OUTSIDE_SCHEMA:
            continue
        assert "/" + route.replace("<ref>", "{ref}") in paths, f"{name} ({route}) is not in the OpenAPI document"


# ---------------------------------------------------------------- the world and its callers

@pytest.fixture
def m(world):
    o = am.build(world)
    o.world = world
    o.clients = {name: login(user) for name, user in o.users.items()}
    o.clients["anonymous"] = Client()
    return o


def _obj(o, kind: str, key: str):
    return {
        "demand": o.demands, "demand_verb": o.demands, "dispatched_demand": o.demands,
        "attachment": o.attachments, "notice": o.notices, "visit": o.visits, "campaign": o.campaigns,
        "circular": o.circulars, "export_job": o.export_jobs, "import_job": o.import_jobs,
        "demand_import_job": o.demand_import_jobs,
        "saved_filter": o.saved_filters, "notification": o.notifications,
        "enterprise_code": o.enterprises, "enterprise_pk": o.enterprises, "policy": o.policies,
        "application": o.applications, "batch": o.batches,
        "policy_file": o.policy_files, "canned_reply": o.canned_replies,
        "hot_issue": o.hot_issues, "policy_study": o.policy_studies,
    }[kind][key]


def url(o, name: str, key: str | None = None, verb: str = "dispatch") -> str:
    entry = am.URLS[name]
    kwargs = dict(entry.extra)
    if entry.kind in ("demand", "demand_verb", "dispatched_demand"):
        kwargs["number"] = o.demands[key].number
        if entry.kind == "demand_verb":
            kwargs["verb"] = verb
    elif entry.kind == "attachment":
        kwargs.update(number=o.demands[key].number, pk=o.attachments[key].pk)
    elif entry.kind == "enterprise_code":
        kwargs["code"] = o.enterprises[key].credit_code
    elif entry.kind is not None:
        kwargs["pk"] = _obj(o, entry.kind, key).pk
    return reverse(name, kwargs=kwargs or None)


def readable(response) -> str:
    """The whole answer as text: headers that point somewhere, the body, and the XML inside a .xlsx/.docx."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    parts = [response.get("Location", ""), response.get("Content-Disposition", "")]
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        except zipfile.BadZipFile:
            parts.append(body.decode("utf-8", "replace"))
    else:
        parts.append(body.decode("utf-8", "replace"))
    return "\n".join(parts)


def leaks(o, caller: str, response, sent="") -> list[str]:
    """Secrets in the answer, except those the caller sent themselves (a login redirect's next=, a form
    shown again with its input): an echo tells them nothing they did not know."""
    text = readable(response)
    sent = f"{response.request.get('PATH_INFO', '')} {sent}"
    return [s for s in am.secrets_for(o, caller) if s in text and s not in sent]


def refused(caller: str, response) -> bool:
    """404/403/405; a redirect to the login page (anonymous) or, for a page of the other frame, home."""
    if response.status_code in (403, 404, 405):
        return True
    if response.status_code == 302:
        where = response["Location"]
        return where.startswith(reverse("login")) or where in (reverse("home"), reverse("portal:home"))
    return False


# ---------------------------------------------------------------- the fingerprint of shared tables

def fingerprint(o, caller: str) -> dict:
    """What a write outside the caller's reach would change: counts, versions and latest changes of every
    shared table, and the rows of other people's personal tables (their exports, filters, notifications)."""
    user = o.users.get(caller)
    others = {"user": user} if user else {"pk__in": []}
    return {
        "demands": Demand.objects.aggregate(n=Count("pk"), v=Sum("version"), u=Max("updated_at")),
        "demand_rows": list(Demand.objects.order_by("pk").values_list(
            "pk", "state", "lead_unit_id", "enterprise_id", "jurisdiction_id", "duplicate_of_id")),
        "co_units": sorted(Demand.co_units.through.objects.values_list("demand_id", "unit_id")),
        "events": DemandEvent.objects.count(), "extensions": Extension.objects.count(),
        "attachments": Attachment.objects.count(), "urgings": Urging.objects.count(),
        "enterprises": Enterprise.objects.aggregate(n=Count("pk"), u=Max("updated_at")),
        "enterprise_events": EnterpriseEvent.objects.count(), "figures": YearlyFigures.objects.count(),
        "helpers": sorted(Helpers.objects.values_list("enterprise_id", "service_specialist_id", "contact_leader_id")),
        "visits": Visit.objects.count(), "assignments": Assignment.objects.count(), "cadres": Cadre.objects.count(),
        "campaigns": Campaign.objects.count(), "targets": CampaignTarget.objects.count(),
        "groups": CampaignGroup.objects.count(), "seminars": Seminar.objects.count(),
        "notices": sorted(SupervisionNotice.objects.values_list("pk", "status", "answer")),
        "notice_events": NoticeEvent.objects.count(), "circulars": Circular.objects.count(),
        "imports": sorted(ImportJob.objects.values_list("pk", "status")),
        "demand_imports": sorted(DemandImportJob.objects.values_list("pk", "status", "attempts")),
        "exports": sorted(ExportJob.objects.exclude(**others).values_list("pk", "status")),
        "filters": sorted(SavedFilter.objects.exclude(**others).values_list("pk", "name", "query")),
        "notifications": sorted(Notification.objects.exclude(
            **({"recipient": user} if user else {"pk__in": []})).values_list("pk", "read_at")),
        "jurisdictions": Jurisdiction.objects.count(),
        "policies": sorted(Policy.objects.values_list("pk", "status", "updated_at", "title")),
        "policy_files": PolicyAttachment.objects.count(),
        "fulfilment": (sorted(Application.objects.values_list("pk", "status")),
                       sorted(Batch.objects.values_list("pk", "status")), FulfilmentRecord.objects.count()),
        "handling": (sorted(HandlingAssignment.objects.values_list("demand_id", "assignee_id")),
                     sorted(CannedReply.objects.values_list("pk", "title", "text")),
                     sorted(Watch.objects.exclude(**others).values_list("demand_id", "user_id"))),
    }


# ---------------------------------------------------------------- pages

@pytest.mark.parametrize("caller", am.CALLERS)
def test_each_page_answers_each_caller_as_the_matrix_declares_and_shows_nothing_out_of_reach(m, caller):
    """Pages and objects within the caller's reach answer as declared; every other one is refused."""
    client, problems = m.clients[caller], []
    for name, entry in am.URLS.items():
        if name == "api:api-root":
            continue
        key = am.in_reach(entry.kind, caller) if entry.kind else None
        if entry.kind and key is None:
            continue  # nothing of this kind is within the caller's reach; the refusal test covers it
        response = client.get(url(m, name, key))
        if caller in entry.ok:
            if response.status_code != entry.ok[caller]:
                problems.append(f"{name}: {response.status_code}, expected {entry.ok[caller]}")
        elif not refused(caller, response):
            problems.append(f"{name}: {response.status_code}, expected a refusal")
        if found := leaks(m, caller, response):
            problems.append(f"{name} leaks {found}")
    assert not problems, "\n".join(problems)


def test_every_object_url_is_proven_reachable_by_someone():
    """An entry whose objects nobody can reach would make its refusals prove nothing."""
    for name, entry in am.URLS.items():
        if entry.kind:
            assert any(am.in_reach(entry.kind, c) for c in entry.ok), name


@pytest.mark.parametrize("caller", am.OUTSIDERS)
def test_objects_out_of_the_callers_reach_are_refused_without_leaking(m, caller):
    client, problems, checked = m.clients[caller], [], 0
    for name, entry in am.URLS.items():
        if not entry.kind:
            continue
        for key in am.out_of_reach(entry.kind, caller):
            response = client.get(url(m, name, key))
            checked += 1
            if not refused(caller, response):
                problems.append(f"{name} [{key}]: {response.status_code}")
            if found := leaks(m, caller, response):
                problems.append(f"{name} [{key}] leaks {found}")
    assert checked, "no out-of-reach object was tried"
    assert not problems, "\n".join(problems)


def test_django_admin_sends_non_staff_to_its_login_page(m):
    for caller in ("dispatcher", "handler", "leader", "owner", "anonymous"):
        response = m.clients[caller].get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), caller
    assert m.clients["admin"].get("/admin/").status_code == 200


# ---------------------------------------------------------------- page writes

def _form(o, caller: str) -> dict:
    """A valid-looking body for every form at once, its targets out of the caller's reach."""
    w, other = o.world, "X" if am.side(caller) == "A" else "A"
    enterprise = o.enterprises["O" if other == "X" else "E"]
    unit = w.other_unit if other == "X" else w.bureau
    place = w.other_town if other == "X" else w.town
    demand = o.demands[other]
    return {
        # demand verbs
        "version": demand.version, "lead_unit": unit.pk, "co_units": [unit.pk], "category": w.hiring.pk,
        "note": "说明", "reason": "不属于本单位职责，建议改派", "method": "phone", "path": "协调解决", "days": 3,
        "reply": "已协调解决", "outcome": "solved", "evaluation": "satisfied", "comment": "好",
        "solution": "现场已解决", "into": demand.number, "contacted_at": "2026-12-03 09:00",
        # intake, registry, visits
        "enterprise": enterprise.credit_code,
        "channel": "visit", "title": "越界写入测试", "content": "越界写入测试内容", "name": "越界写入企业",
        "credit_code": enterprise.credit_code, "jurisdiction": place.code, "sector": "industry",
        "visited_on": "2026-12-03", "form": "on_site", "discussed": "越界", "year": 2025, "employees": 10,
        "requirement": "越界督办", "answer": "越界反馈", "username": "specialist", "duty": "specialist",
        "on": "2026-12-03", "kind": "weekly", "start": "2026-11-01", "end": "2026-11-30",
        "starts_on": "2026-12-01", "ends_on": "2026-12-31", "held_on": "2026-12-03", "leader": "dispatcher",
        "members": "dispatcher", "confirmed": "1", "rating": "5", "partial": "1", "accept_all": "1",
        "query": "state=received", "cols": ["number"], "by_email": "on", "replace": "on", "tiers": "district",
        "username_login": "", "password": "",
    }


def _other(o, caller, kind):
    return o.enterprises["O" if am.side(caller) == "A" else "E"]


# Form fields that mean different things on different pages.
BODY = {
    "visits:new": lambda o, c: {"enterprise": _other(o, c, "enterprise").pk},
    "login": lambda o, c: {"username": o.world.dispatcher.username, "password": "wrong"},
    # 批量操作: out-of-reach demands ticked, an out-of-reach unit chosen
    "handling:bulk": lambda o, c: {"action": "dispatch", "pick": [o.demands["X" if am.side(c) == "A" else "A"].number,
                                                                  o.demands["R"].number],
                                   "unit": (o.world.other_unit if am.side(c) == "A" else o.world.bureau).pk},
}


@pytest.mark.parametrize("caller", am.OUTSIDERS)
def test_no_page_write_reaches_outside_the_callers_reach(m, caller):
    """Every POST, as this caller, against objects out of reach (or with out-of-reach targets in the body):
    refused, and the shared tables unchanged."""
    problems, tried = [], 0
    for name, entry in am.URLS.items():
        if not entry.post or (entry.scope_only and caller in entry.ok):
            continue
        # Own-account writes (logout, password, second factor) get a session of their own.
        client = (login(m.users[caller]) if caller in m.users else Client()) if entry.own else m.clients[caller]
        body = {**_form(m, caller), **BODY.get(name, {})(m, caller)} if name in BODY else _form(m, caller)
        keys = am.out_of_reach(entry.kind, caller) if entry.kind else [None]
        verbs = VERBS if entry.kind == "demand_verb" else ("dispatch",)
        for key in keys:
            for verb in verbs:
                target = url(m, name, key, verb)
                if entry.kind is None:
                    target = f"{target}?jurisdiction={body['jurisdiction']}"
                before = fingerprint(m, caller)
                response = client.post(target, body)
                tried += 1
                if fingerprint(m, caller) != before:
                    problems.append(f"{name} [{key} {verb}] changed shared data ({response.status_code})")
                if entry.kind and not refused(caller, response):
                    problems.append(f"{name} [{key} {verb}]: {response.status_code}, expected a refusal")
                if found := leaks(m, caller, response, json.dumps(body, ensure_ascii=False)):
                    problems.append(f"{name} [{key} {verb}] leaks {found}")
    assert tried
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- API

def _api(o, caller: str) -> dict:
    return bearer(o.users[caller]) if caller in o.users else {}


def _api_path(o, op: str, key: str | None) -> tuple[str, str]:
    method, path = op.split(" ", 1)
    kind = am.API[op]
    if kind == "demand":
        path = path.replace("{ref}", o.demands[key].number)
    elif kind == "enterprise":
        path = path.replace("{ref}", o.enterprises[key].credit_code)
    elif kind == "policy":
        path = path.replace("{ref}", str(o.policies[key].pk))
    return method, path


def _api_call(client, method, path, headers, body=None):
    if method == "GET":
        return client.get(path, **headers)
    call = {"POST": client.post, "PATCH": client.patch}[method]
    return call(path, data=json.dumps(body or {}), content_type="application/json", **headers)


def _api_body(o, caller: str, op: str) -> dict:
    """A valid-looking body for the operation, every target in it out of the caller's reach."""
    w, other = o.world, "X" if am.side(caller) == "A" else "A"
    enterprise = o.enterprises["O" if other == "X" else "E"]
    intake = {"credit_code": enterprise.credit_code, "channel": "visit", "title": "越界受理", "content": "越界受理内容"}
    if am.API[op] == "intake":
        return intake
    if am.API[op] == "intake_batch":
        return {"items": [intake]}
    if am.API[op] == "register":
        return {"name": "越界登记企业", "credit_code": enterprise.credit_code, "sector": "industry",
                "jurisdiction": (w.other_town if other == "X" else w.town).code}
    return {"lead_unit": (w.other_unit if other == "X" else w.bureau).pk, "reason": "不属于本单位职责，建议改派",
            "note": "说明", "method": "电话", "path": "协调解决", "days": 3, "reply": "已协调解决",
            "outcome": "solved", "evaluation": "satisfied", "solution": "现场已解决",
            "into": o.demands[other].number, "name": "越界改名", "year": 2025, "employees": 10,
            "assignee": "handler", "text": "越界备注", "to_jurisdiction": w.city.code}


@pytest.mark.parametrize("caller", am.CALLERS)
def test_api_reads_show_each_caller_only_what_is_within_reach(m, caller):
    client, headers, problems = Client(), _api(m, caller), []
    for op, kind in am.API.items():
        if not op.startswith("GET"):
            continue
        if kind is None:
            method, path = _api_path(m, op, None)
            response = _api_call(client, method, path, headers)
            expected = 401 if caller == "anonymous" else 200
            if response.status_code != expected:
                problems.append(f"{op}: {response.status_code}, expected {expected}")
            if found := leaks(m, caller, response):
                problems.append(f"{op} leaks {found}")
            continue
        api_kind = {"demand": "demand", "policy": "policy"}.get(kind, "enterprise_code")
        reach = am.in_reach(api_kind, caller)
        if reach:
            response = _api_call(client, *_api_path(m, op, reach), headers)
            if response.status_code != 200:
                problems.append(f"{op} [{reach}]: {response.status_code}, expected 200")
            if found := leaks(m, caller, response):
                problems.append(f"{op} [{reach}] leaks {found}")
        for key in am.out_of_reach(api_kind, caller):
            response = _api_call(client, *_api_path(m, op, key), headers)
            if response.status_code != (401 if caller == "anonymous" else 404):
                problems.append(f"{op} [{key}]: {response.status_code}, expected a refusal")
            if found := leaks(m, caller, response):
                problems.append(f"{op} [{key}] leaks {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("caller", am.OUTSIDERS)
def test_no_api_write_reaches_outside_the_callers_reach(m, caller):
    """Every creating call and every verb, with out-of-reach targets: refused, nothing changed."""
    client, headers, problems, tried = Client(), _api(m, caller), [], 0
    for op, kind in am.API.items():
        if op.startswith("GET"):
            continue
        body = _api_body(m, caller, op)
        if kind in ("demand", "enterprise"):
            keys = am.out_of_reach("demand" if kind == "demand" else "enterprise_code", caller)
        else:
            keys = [None]
        for key in keys:
            method, path = _api_path(m, op, key)
            before = fingerprint(m, caller)
            response = _api_call(client, method, path, headers, body)
            tried += 1
            if fingerprint(m, caller) != before:
                problems.append(f"{op} [{key}] changed shared data ({response.status_code} {response.content[:200]})")
            if response.status_code not in (400, 401, 403, 404, 422):
                problems.append(f"{op} [{key}]: {response.status_code}, expected a refusal")
            if kind in ("demand", "enterprise") and response.status_code != (401 if caller == "anonymous" else 404):
                problems.append(f"{op} [{key}]: {response.status_code}, expected 404")
            if found := leaks(m, caller, response, json.dumps(body, ensure_ascii=False)):
                problems.append(f"{op} [{key}] leaks {found}")
    assert tried
    assert not problems, "\n".join(problems)


def test_a_demand_within_reach_cannot_be_sent_or_merged_outside_it(m):
    """The dispatcher's own waiting demand: dispatching it to another district's unit, or merging it into
    another district's demand, is refused by the page and the API alike, and nothing changes."""
    w, waiting, far = m.world, m.demands["R"], m.demands["X"]
    before = fingerprint(m, "dispatcher")
    api = Client()
    for verb, body in (("dispatch", {"lead_unit": w.other_unit.pk}), ("merge", {"into": far.number})):
        response = api.post(f"/api/v1/demands/{waiting.number}/{verb}", data=json.dumps(body),
                            content_type="application/json", **bearer(w.dispatcher))
        assert response.status_code in (400, 403, 404, 422), (verb, response.content)
        assert far.title not in response.content.decode()
        page = m.clients["dispatcher"].post(reverse("demands:act", args=[waiting.number, verb]),
                                            {**body, "version": waiting.version, "category": w.hiring.pk})
        assert page.status_code in (400, 403, 404), (verb, page.status_code)
    assert fingerprint(m, "dispatcher") == before
