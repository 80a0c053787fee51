"""The access matrix: who may reach every page and API operation, and the fixture objects behind it.

`build(world)` adds to the conftest world one object of every kind a URL names, on both sides of the
district line (南山 "A" and 宝安 "X") and, inside 南山, for another unit and another enterprise ("B"),
plus a demand waiting to be dispatched ("R"). `SEES` declares which of those demands each caller may see;
every other expectation (enterprises, notices, attachments) follows from it, so the matrix says once who
sees what and the tests check every page and operation against it.

`URLS` has one entry per named URL pattern (tests/test_access_matrix.py fails on a pattern without one),
`API` one per OpenAPI operation. An entry names the kind of object its URL arguments point at, the method,
and the status each caller gets on an object (or page) within their reach; callers not listed are refused.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from qinqing.accounts.models import Role
from qinqing.demands import services as demand_services
from qinqing.demands.models import Attachment, Channel
from qinqing.enterprises.models import Enterprise, ImportJob
from qinqing.fulfilment import services as fulfilment_services
from qinqing.fulfilment.models import Batch
from qinqing.handling import services as handling_services
from qinqing.lib import clock
from qinqing.notifications.models import Notification
from qinqing.policies import services as policy_services
from qinqing.reports.models import CircularKind
from qinqing.reports.services import issue_circular
from qinqing.supervision import services as notice_services
from qinqing.transparency.models import DemandImportJob
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Form, Level
from qinqing.workbench.models import ExportJob, SavedFilter
from tests.conftest import at, make_user
from tests.test_uploads import png_bytes

# ---------------------------------------------------------------- callers

NANSHAN_STAFF = ("dispatcher", "handler", "head", "co_handler", "supervisor", "leader", "specialist")
BAOAN_STAFF = ("other_handler", "other_dispatcher")
STAFF = (*NANSHAN_STAFF, *BAOAN_STAFF, "admin")
ENTERPRISES = ("owner", "neighbour_owner", "other_owner")
CALLERS = (*STAFF, *ENTERPRISES, "anonymous")
OUTSIDERS = tuple(c for c in CALLERS if c != "admin")  # the administrator sees everything by design
STATISTICS = ("dispatcher", "other_dispatcher", "supervisor", "leader", "admin")
OVERSEERS = ("dispatcher", "other_dispatcher", "supervisor", "leader", "admin")  # a jurisdiction's duties
REGISTRARS = ("dispatcher", "other_dispatcher", "admin")
BAOAN = ("other_handler", "other_dispatcher", "other_owner")

# The demands each caller may see (admin: all). A: 南山, the owner's, led by the bureau (handler, head);
# B: 南山, the neighbour's, led by the finance bureau (co_handler); R: 南山, the owner's, not yet
# dispatched; X: 宝安, the other owner's, led by 宝安's unit.
SEES = {
    "dispatcher": {"A", "B", "R"}, "supervisor": {"A", "B", "R"}, "leader": {"A", "B", "R"},
    "handler": {"A"}, "head": {"A"}, "co_handler": {"B"}, "specialist": {"A", "R"},
    "other_handler": {"X"}, "other_dispatcher": {"X"}, "admin": {"A", "B", "R", "X"},
    "owner": {"A", "R"}, "neighbour_owner": {"B"}, "other_owner": {"X"}, "anonymous": set(),
}
ENTERPRISE_OF = {"A": "E", "R": "E", "B": "N", "X": "O"}  # E: the owner's, N: the neighbour's, O: 宝安's


def sees_enterprise(caller: str, key: str) -> bool:
    return any(ENTERPRISE_OF[d] == key for d in SEES[caller])


def side(caller: str) -> str:
    """The caller's own side of the district line; objects of the other side are out of reach."""
    return "X" if caller in BAOAN else "A"


# ---------------------------------------------------------------- the matrix

@dataclass(frozen=True)
class Entry:
    """One URL pattern: the kind of object its arguments point at, how it is called, who gets what.

    `ok` maps a caller to the status they get on an object (or page) within their reach; any caller not
    listed is refused (404 signed in, a redirect to the login page when anonymous). `post` marks a URL
    that changes something: the write matrix posts to it, as every caller, against out-of-reach targets.
    `own` marks a write that touches only the caller's own rows (preferences, saved filters), which the
    fingerprint of shared tables leaves out; `scope_only` a write whose target is the caller's own
    jurisdiction or enterprise by construction (no argument can point elsewhere), so only callers outside
    `ok` are posted to.
    """

    kind: str | None = None
    ok: dict = field(default_factory=dict)
    post: bool = False
    get_allowed: bool = True
    own: bool = False
    scope_only: bool = False
    extra: dict = field(default_factory=dict)


def every(callers, status=200) -> dict:
    return dict.fromkeys(callers, status)


STAFF_PAGE = every(STAFF)
PORTAL_PAGE = {**every(ENTERPRISES), **every(STAFF, 302)}  # staff are sent to their workbench

URLS = {
    "login": Entry(ok={**every(STAFF + ENTERPRISES, 302), "anonymous": 200}, post=True, own=True),
    "logout": Entry(ok=every(STAFF + ENTERPRISES, 405), get_allowed=False, post=True, own=True),
    # a person's own account: password, second factor
    "account_security": Entry(ok=every(STAFF + ENTERPRISES)),
    "password_change": Entry(ok=every(STAFF + ENTERPRISES), post=True, own=True),
    "otp_enrol": Entry(ok=every(STAFF + ENTERPRISES), post=True, own=True),
    "otp_verify": Entry(ok=every(STAFF + ENTERPRISES, 302), post=True, own=True),
    # revealing one masked number with a reason (qinqing.accounts.privacy_views): staff who see the object
    "reveal_demand": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True,
                           extra={"field": "reporter_phone"}),
    "reveal_enterprise": Entry(kind="enterprise_code", ok=every(STAFF, 405), get_allowed=False, post=True,
                               extra={"field": "contact_phone"}),
    "home": Entry(ok={**STAFF_PAGE, **every(ENTERPRISES, 302)}),
    "api:api-root": Entry(ok={}),
    "api:openapi-json": Entry(ok={**every(CALLERS)}),
    # demands
    "demands:ledger": Entry(ok=STAFF_PAGE),
    "demands:receive": Entry(ok=STAFF_PAGE, post=True),
    "demands:dispatch_inbox": Entry(ok=STAFF_PAGE),
    "demands:unit_inbox": Entry(ok=STAFF_PAGE),
    "demands:overdue": Entry(ok=STAFF_PAGE),
    "demands:list": Entry(ok=STAFF_PAGE, extra={"key": "problems"}),
    "demands:detail": Entry(kind="demand", ok=STAFF_PAGE),
    "demands:attachment": Entry(kind="attachment", ok=STAFF_PAGE),
    "demands:act": Entry(kind="demand_verb", ok=every(STAFF, 405), get_allowed=False, post=True),
    # 答复附件 and previews (qinqing.transparency.material_views): the matrix's attachments are photos, shown in
    # place to whoever may download them; tests/test_after_reply.py also previews a PDF and refuses other files.
    # Excel in for demands (qinqing.transparency.import_views): a dispatcher's own jobs; the administrator's all
    "demands:import": Entry(ok=every(REGISTRARS), post=True),
    "demands:import_job": Entry(kind="demand_import_job", ok=every(REGISTRARS)),
    "demands:import_confirm": Entry(kind="demand_import_job", ok=every(REGISTRARS, 405), get_allowed=False,
                                    post=True),
    "demands:import_errors": Entry(kind="demand_import_job", ok=every(REGISTRARS)),
    "demands:reply_files": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "demands:attachment_preview": Entry(kind="attachment", ok=STAFF_PAGE),
    # registry
    "enterprises:list": Entry(ok=STAFF_PAGE),
    "enterprises:export": Entry(ok=STAFF_PAGE),
    "enterprises:template": Entry(ok=STAFF_PAGE),
    "enterprises:create": Entry(ok=every(REGISTRARS), post=True),
    "enterprises:import": Entry(ok=every(REGISTRARS), post=True),
    "enterprises:import_job": Entry(kind="import_job", ok=every(REGISTRARS)),
    "enterprises:import_confirm": Entry(kind="import_job", ok=every(REGISTRARS, 405), get_allowed=False,
                                        post=True),
    "enterprises:import_errors": Entry(kind="import_job", ok=every(REGISTRARS)),
    "enterprises:detail": Entry(kind="enterprise_code", ok=STAFF_PAGE),
    "enterprises:edit": Entry(kind="enterprise_code", ok=every(REGISTRARS), post=True),
    "enterprises:figures": Entry(kind="enterprise_code", ok=every(STAFF, 405), get_allowed=False, post=True),
    # notifications: a person's own
    "notifications:centre": Entry(ok=every(STAFF + ENTERPRISES)),
    "notifications:read_all": Entry(ok=every(STAFF + ENTERPRISES, 405), get_allowed=False, post=True, own=True),
    "notifications:settings": Entry(ok=every(STAFF + ENTERPRISES), post=True, own=True),
    "notifications:open": Entry(kind="notification", ok={"handler": 302, "other_handler": 302}),
    # the enterprise portal
    "portal:home": Entry(ok=PORTAL_PAGE),
    "portal:submit": Entry(ok=PORTAL_PAGE, post=True, scope_only=True),
    "portal:history": Entry(ok=PORTAL_PAGE),
    "portal:detail": Entry(kind="demand", ok=PORTAL_PAGE),
    "portal:rate": Entry(kind="demand", ok=every(ENTERPRISES, 405), get_allowed=False, post=True),
    "portal:reopen": Entry(kind="demand", ok=every(ENTERPRISES, 405), get_allowed=False, post=True),
    "portal:attachment": Entry(kind="attachment", ok=PORTAL_PAGE),
    "portal:attachment_preview": Entry(kind="attachment", ok=PORTAL_PAGE),
    "portal:follow_up": Entry(kind="demand", ok=every(ENTERPRISES, 405), get_allowed=False, post=True),
    "visits_portal:home": Entry(ok=every(ENTERPRISES)),
    "visits_portal:respond": Entry(kind="visit", ok=every(ENTERPRISES, 405), get_allowed=False, post=True),
    # reports
    "reports:dashboard": Entry(ok=every(STATISTICS)),
    "reports:briefing": Entry(ok=every(STATISTICS)),
    "reports:circulars": Entry(ok=every(STATISTICS)),
    "reports:circular_issue": Entry(ok=every(STATISTICS, 405), get_allowed=False, post=True),
    "reports:circular": Entry(kind="circular", ok=every(STATISTICS)),
    "reports:circular_file": Entry(kind="circular", ok=every(STATISTICS), extra={"fmt": "word"}),
    # supervision
    "supervision:board": Entry(ok=every(STATISTICS)),
    "supervision:assessment": Entry(ok=every(STATISTICS)),
    "supervision:notices": Entry(ok=STAFF_PAGE),
    "supervision:notice": Entry(kind="notice", ok=STAFF_PAGE),
    "supervision:notice_answer": Entry(kind="notice", ok=every(STAFF, 405), get_allowed=False, post=True),
    "supervision:notice_form": Entry(kind="demand", ok=every(("supervisor", "leader", "admin"))),
    "supervision:notice_issue": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    # visits and contact duties
    "visits:my_week": Entry(ok=STAFF_PAGE),
    "visits:log": Entry(ok=STAFF_PAGE),
    "visits:new": Entry(ok=STAFF_PAGE, post=True),
    "visits:detail": Entry(kind="visit", ok=STAFF_PAGE),
    "visits:enterprise": Entry(kind="enterprise_pk", ok=STAFF_PAGE),
    "visits:assign": Entry(kind="enterprise_pk", ok=every(STAFF, 405), get_allowed=False, post=True),
    "visits:assignments": Entry(ok=every(OVERSEERS)),
    "visits:assignments_import": Entry(ok=every(STAFF, 405), get_allowed=False, post=True),
    "visits:assign_rule": Entry(ok={**every(("dispatcher", "other_dispatcher", "leader")), "admin": 302}, post=True,
                                scope_only=True),
    "visits:campaigns": Entry(ok=STAFF_PAGE),
    "visits:campaign_new": Entry(ok=every(("dispatcher", "other_dispatcher", "leader")), post=True,
                                 scope_only=True),
    "visits:campaign": Entry(kind="campaign", ok=every(OVERSEERS)),
    "visits:campaign_targets": Entry(kind="campaign", ok=every(STAFF, 405), get_allowed=False, post=True),
    "visits:campaign_seminar": Entry(kind="campaign", ok=every(STAFF, 405), get_allowed=False, post=True),
    "visits:campaign_group": Entry(kind="campaign", ok=every(STAFF, 405), get_allowed=False, post=True),
    "visits:neglect": Entry(ok=every(OVERSEERS)),
    "visits:log_export": Entry(ok=STAFF_PAGE),
    "visits:seminars_export": Entry(ok=STAFF_PAGE),
    "visits:campaign_export": Entry(kind="campaign", ok=every(OVERSEERS)),
    # 惠企政策: staff of the policy's jurisdiction and above read; its dispatchers and the admin edit
    "policies:list": Entry(ok=STAFF_PAGE),
    "policies:new": Entry(ok=every(REGISTRARS), post=True),
    "policies:import": Entry(ok=every(REGISTRARS), post=True),
    "policies:detail": Entry(kind="policy", ok=STAFF_PAGE),
    "policies:edit": Entry(kind="policy", ok=every(REGISTRARS), post=True),
    "policies:rule": Entry(kind="policy", ok=every(REGISTRARS), post=True),
    "policies:status": Entry(kind="policy", ok=every(STAFF, 405), get_allowed=False, post=True),
    "policies_portal:home": Entry(ok=PORTAL_PAGE),
    "policies_portal:detail": Entry(kind="policy", ok=PORTAL_PAGE),
    "policies:attach": Entry(kind="policy", ok=every(STAFF, 405), get_allowed=False, post=True),
    "policies:file": Entry(kind="policy_file", ok=STAFF_PAGE),
    "policies_portal:file": Entry(kind="policy_file", ok=PORTAL_PAGE),
    # 热点问题 (qinqing.hotissues): the jurisdiction's leaders, dispatchers and supervisors; a study is started by
    # its dispatchers and leaders (a supervisor is told no on the page)
    "hotissues:list": Entry(ok=every(STATISTICS)),
    "hotissues:refresh": Entry(ok=every(STATISTICS, 405), get_allowed=False, post=True),
    "hotissues:detail": Entry(kind="hot_issue", ok=every(STATISTICS)),
    "hotissues:study_start": Entry(kind="hot_issue", ok=every(STATISTICS, 405), get_allowed=False, post=True),
    "hotissues:study": Entry(kind="policy_study", ok=every(STATISTICS)),
    "policies:pocketbook": Entry(ok=STAFF_PAGE),
    "policies_portal:ask": Entry(kind="policy", ok=every(ENTERPRISES, 405), get_allowed=False, post=True),
    "policies_portal:push_settings": Entry(ok=every(ENTERPRISES, 405), get_allowed=False, post=True,
                                           scope_only=True),
    # workbench: a person's own exports and filters
    "workbench:export": Entry(ok=STAFF_PAGE, own=True),
    "workbench:exports": Entry(ok=STAFF_PAGE),
    "workbench:export_job": Entry(kind="export_job", ok={"dispatcher": 200, "other_dispatcher": 200}),
    "workbench:download": Entry(kind="export_job", ok={"dispatcher": 200, "other_dispatcher": 200}),
    "workbench:save_filter": Entry(ok=every(STAFF, 405), get_allowed=False, post=True, own=True),
    "workbench:delete_filter": Entry(kind="saved_filter", ok={"dispatcher": 405, "other_dispatcher": 405},
                                     get_allowed=False, post=True),
    "workbench:columns": Entry(ok=every(STAFF, 405), get_allowed=False, post=True, own=True),
    "workbench:slip": Entry(kind="dispatched_demand", ok=STAFF_PAGE),
    # cooperation (issue 15): the escalation queues, the dispatchers' 退单争议 queue, steps from the demand page
    "cooperation:queue": Entry(ok=every(OVERSEERS)),
    "cooperation:disputes": Entry(ok=every(("dispatcher", "other_dispatcher", "supervisor", "admin"))),
    "cooperation:accept": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:opinion": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:dispute": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:decide": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:instruct": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:answer": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:progress": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "cooperation:review": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    # 政策兑现 (qinqing.fulfilment): the ledger, applications, 免申即享 batches; an enterprise's own page and apply
    "fulfilment:ledger": Entry(ok=STAFF_PAGE),
    "fulfilment:applications": Entry(ok=STAFF_PAGE),
    "fulfilment:application": Entry(kind="application", ok=STAFF_PAGE),
    "fulfilment:application_act": Entry(kind="application", ok=every(STAFF, 405), get_allowed=False, post=True),
    "fulfilment:policy": Entry(kind="policy", ok=STAFF_PAGE),
    "fulfilment:record": Entry(kind="policy", ok=every(STAFF, 405), get_allowed=False, post=True),
    "fulfilment:build": Entry(kind="policy", ok=every(STAFF, 405), get_allowed=False, post=True),
    "fulfilment:batches": Entry(ok=STAFF_PAGE),
    "fulfilment:batch": Entry(kind="batch", ok=STAFF_PAGE),
    "fulfilment:batch_act": Entry(kind="batch", ok=every(STAFF, 405), get_allowed=False, post=True),
    "fulfilment:mine": Entry(ok=PORTAL_PAGE),
    "fulfilment:apply": Entry(kind="policy", ok={**every(ENTERPRISES, 405), **every(STAFF, 302)}, get_allowed=False,
                              post=True),
    # 办理协同 (qinqing.handling): my demands, bulk actions, 常用语, and the demand page's people forms
    "handling:mine": Entry(ok=STAFF_PAGE),
    # 答复质量检查 (qinqing.textmodel): the reply form's button; the advice only for whoever may reply now.
    "textmodel:reply_check": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "handling:bulk": Entry(ok=STAFF_PAGE, post=True),
    "handling:canned": Entry(ok=every(("head", "dispatcher", "other_dispatcher", "admin")), post=True,
                             scope_only=True),
    "handling:canned_edit": Entry(kind="canned_reply", ok=every(("dispatcher", "other_dispatcher", "admin")),
                                  post=True),
    "handling:canned_delete": Entry(kind="canned_reply", ok=every(("dispatcher", "other_dispatcher", "admin"), 405),
                                    get_allowed=False, post=True),
    "handling:assign": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "handling:watch": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "handling:note": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    "handling:urge": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True),
    # 层级移交与挂起 (qinqing.handoffs): the list of 移出/移入, and the demand page's hand-off and pause forms
    "handoffs:list": Entry(ok=STAFF_PAGE),
    "handoffs:act": Entry(kind="demand", ok=every(STAFF, 405), get_allowed=False, post=True,
                          extra={"verb": "handoff"}),
    # 一公开 (qinqing.transparency): open to anyone without login; an administrator refreshes the figures
    "transparency:home": Entry(ok=every(CALLERS)),
    "transparency:jurisdiction": Entry(ok=every(CALLERS), extra={"code": "440305"}),
    "transparency:rebuild": Entry(ok={"admin": 405}, get_allowed=False, post=True),
}

# API operations: "METHOD /path" → the kind of object in the path (None for collections), and whether it
# writes. Every caller outside an object's reach gets 404 (401 without a token).
API = {
    "GET /api/v1/demands": None,
    "POST /api/v1/demands": "intake",
    "POST /api/v1/demands/batch": "intake_batch",
    "GET /api/v1/demands/{ref}": "demand",
    **{f"POST /api/v1/demands/{{ref}}/{verb}": "demand" for verb in (
        "dispatch", "return", "accept", "contact", "plan", "request_extension", "approve_extension",
        "reject_extension", "escalate", "mark_long_term", "transfer", "reply", "evaluate", "reopen", "close",
        "merge", "settle")},
    "GET /api/v1/enterprises": None,
    "POST /api/v1/enterprises": "register",
    "GET /api/v1/enterprises/{ref}": "enterprise",
    "PATCH /api/v1/enterprises/{ref}": "enterprise",
    "POST /api/v1/enterprises/{ref}/figures": "enterprise",
    "GET /api/v1/policies": None,
    "GET /api/v1/hotissues": None,
    "POST /api/v1/textmodel/demands/{ref}/reply-check": "demand",
    "GET /api/v1/cooperation/escalations": None,
    "GET /api/v1/cooperation/demands/{ref}": "demand",
    "POST /api/v1/cooperation/demands/{ref}/opinions": "demand",
    "POST /api/v1/cooperation/demands/{ref}/instructions": "demand",
    "POST /api/v1/cooperation/demands/{ref}/answers": "demand",
    "GET /api/v1/fulfilment/records": None,
    "GET /api/v1/fulfilment/summary": None,
    "GET /api/v1/policies/{ref}/eligible": "policy",
    "GET /api/v1/enterprises/{ref}/policies": "enterprise",
    "GET /api/v1/handling/mine": None,
    "POST /api/v1/demands/{ref}/assign": "demand",
    "POST /api/v1/demands/{ref}/notes": "demand",
    **{f"POST /api/v1/handoffs/demands/{{ref}}/{verb}": "demand" for verb in (
        "handoff", "pause", "pause/approve", "pause/refuse", "resume")},
}
# Resolver patterns under /api/v1/ that are not operations of the OpenAPI document.
API_ROUTES_OUTSIDE_SCHEMA = {"api:openapi-json", "api:api-root", "api:unknown_verb", None}


# ---------------------------------------------------------------- the fixture objects

class Objects:
    """The objects of the matrix world, by kind and key."""

    def __init__(self):
        self.demands, self.enterprises, self.attachments = {}, {}, {}
        self.notices, self.visits, self.campaigns, self.circulars = {}, {}, {}, {}
        self.export_jobs, self.import_jobs, self.saved_filters, self.notifications = {}, {}, {}, {}
        self.users = {}
        self.policies, self.policy_files = {}, {}
        self.hot_issues, self.policy_studies = {}, {}
        self.applications, self.batches = {}, {}
        self.internal_notes = []
        self.canned_replies = {}
        self.demand_import_jobs = {}


def _attach(demand, user, name: str) -> Attachment:
    """A photo (a real PNG), so that the preview pages, which show only images and PDFs, have something to show."""
    content = png_bytes()
    item = Attachment(demand=demand, name=name, size=len(content), uploaded_by=user)
    item.file.save(name, ContentFile(content), save=True)
    return item


def build(w) -> Objects:
    """Every kind of object a URL names, in reach of one side and out of reach of the other."""
    o = Objects()
    o.other_supervisor = make_user("othersupervisor", Role.SUPERVISOR, full_name="卫外督",
                                   jurisdiction=w.other_district)
    o.users = {name: getattr(w, name) for name in CALLERS if name != "anonymous"}
    o.users["co_handler"] = w.co_handler
    Enterprise.objects.filter(pk=w.neighbour.pk).update(contact_phone="13800000003")
    for e in (w.enterprise, w.neighbour, w.other_enterprise):
        e.refresh_from_db()
    o.enterprises = {"E": w.enterprise, "N": w.neighbour, "O": w.other_enterprise}

    def receive(user, enterprise, title, content):
        return demand_services.receive_demand(user, enterprise=enterprise, channel=Channel.VISIT, title=title,
                                              content=content, category=w.hiring,
                                              received_at=at("2026-11-30 10:00"))

    # QQ2026-000001 is the example in forms and the API's documentation: no matrix demand carries it.
    receive(w.dispatcher, w.enterprise, "示例编号占位", "占去示例编号。")
    a = receive(w.dispatcher, w.enterprise, "数控车间招工难甲", "扩产缺少操作工，甲件内容。")
    demand_services.dispatch_demand(w.dispatcher, a, lead_unit=w.bureau, note="交办意见甲")
    b = receive(w.dispatcher, w.neighbour, "餐饮门店融资难乙", "门店装修资金缺口，乙件内容。")
    demand_services.dispatch_demand(w.dispatcher, b, lead_unit=w.finance, note="交办意见乙")
    r = receive(w.dispatcher, w.enterprise, "厂区道路照明不足丙", "夜班员工出行不便，丙件内容。")
    x = receive(w.other_dispatcher, w.other_enterprise, "物流园区停车难丁", "货车无处停放，丁件内容。")
    demand_services.dispatch_demand(w.other_dispatcher, x, lead_unit=w.other_unit, note="交办意见丁")
    for key, d in {"A": a, "B": b, "R": r, "X": x}.items():
        d.refresh_from_db()
        o.demands[key] = d
    o.attachments = {"A": _attach(a, w.dispatcher, "甲附件.png"), "B": _attach(b, w.dispatcher, "乙附件.png"),
                     "X": _attach(x, w.other_dispatcher, "丁附件.png")}

    # 督办单: an internal entry on the demand's timeline, which enterprises must never read.
    o.notices["A"] = notice_services.issue_notice(w.supervisor, a, requirement="内部督办要求甲：限期说明进展")
    o.notices["X"] = notice_services.issue_notice(o.other_supervisor, x, requirement="内部督办要求丁：限期说明进展")
    o.internal_notes = ["内部督办要求甲", "内部督办要求丁"]

    today = clock.today()
    cadre = visit_services.register_cadre(w.dispatcher, w.specialist, level=Level.SPECIALIST,
                                          jurisdiction=w.district)
    visit_services.assign_contact(w.dispatcher, w.enterprise, cadre, duty=Duty.SPECIALIST,
                                  on=today - dt.timedelta(days=20))
    o.visits["A"] = visit_services.record_visit(w.specialist, enterprise=w.enterprise, visited_on=today,
                                                form=Form.ON_SITE, discussed="走访交流甲：订单回暖")
    o.visits["X"] = visit_services.record_visit(w.admin, enterprise=w.other_enterprise, visited_on=today,
                                                form=Form.ON_SITE, discussed="走访交流丁：车辆调度")
    o.campaigns["A"] = visit_services.create_campaign(w.dispatcher, name="南山秋季走访甲", jurisdiction=w.district,
                                                      starts_on=today - dt.timedelta(days=5), ends_on=today)
    o.campaigns["X"] = visit_services.create_campaign(w.other_dispatcher, name="宝安秋季走访丁",
                                                      jurisdiction=w.other_district,
                                                      starts_on=today - dt.timedelta(days=5), ends_on=today)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    o.circulars["A"] = issue_circular(w.supervisor, kind=CircularKind.MONTHLY, jurisdiction=w.district,
                                      start=start, end=end)
    o.circulars["X"] = issue_circular(o.other_supervisor, kind=CircularKind.MONTHLY,
                                      jurisdiction=w.other_district, start=start, end=end)

    for key, user in (("A", w.dispatcher), ("X", w.other_dispatcher)):
        job = ExportJob.objects.create(user=user, query="", status=ExportJob.Status.DONE, total_rows=1, done_rows=1)
        job.file.save(f"export-{key}.xlsx", ContentFile(b"PK"), save=True)
        o.export_jobs[key] = job
        imp = ImportJob.objects.create(original_name=f"名单{key}.xlsx", uploaded_by=user, file=f"imports/{key}.xlsx")
        imp.error_file.save(f"errors-{key}.xlsx", ContentFile(b"PK"), save=True)
        o.import_jobs[key] = imp
        dimp = DemandImportJob.objects.create(original_name=f"工单{key}.xlsx", uploaded_by=user,
                                              file=f"demand-imports/{key}.xlsx", status="invalid")
        dimp.error_file.save(f"demand-errors-{key}.xlsx", ContentFile(b"PK"), save=True)
        o.demand_import_jobs[key] = dimp
        o.saved_filters[key] = SavedFilter.objects.create(user=user, name=f"常用{key}", query="state=received")
    for key, user, place in (("A", w.dispatcher, w.district), ("X", w.other_dispatcher, w.other_district)):
        policy = policy_services.register_policy(user, {
            "title": f"稳岗扩岗补贴{key}", "issuer": f"{place.name}人力资源局", "level": "district",
            "jurisdiction": place, "benefit_type": "grant", "amount_kind": "fixed", "amount_fixed": "5",
            "valid_until": "2027-12-31", "apply_closes": "2026-12-31"})
        o.policies[key] = policy_services.publish_policy(user, policy)
        o.policy_files[key] = policy_services.attach_file(
            user, policy, SimpleUploadedFile(f"申报指南{key}.pdf", b"%PDF-1.4\n%%EOF\n"))
    # 政策兑现: each side's enterprise applied for its district's policy; a batch of each policy awaits work.
    for key, owner, user in (("A", w.owner, w.dispatcher), ("X", w.other_owner, w.other_dispatcher)):
        o.applications[key] = fulfilment_services.apply_for_policy(owner, o.policies[key])
        o.batches[key] = Batch.objects.create(policy=o.policies[key], title=f"免申即享批次{key}", prepared_by=user)
    # 热点问题: a stored hot issue per side (its demands as members), each turned into a policy study.
    from qinqing.hotissues import services as hot_services
    from qinqing.hotissues.models import HotIssue, HotIssueMember

    for key, place, members, user in (("A", w.district, (a, b), w.dispatcher),
                                      ("X", w.other_district, (x,), w.other_dispatcher)):
        issue = HotIssue.objects.create(
            jurisdiction=place, period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30), rank=1,
            title=f"热点问题{key}", heat=100.0, demand_count=len(members), enterprise_count=len(members),
            recent_count=len(members), previous_count=0, growth=1.0, first_at=at("2026-11-30 10:00"),
            last_at=at("2026-11-30 10:00"))
        HotIssueMember.objects.bulk_create([HotIssueMember(hot_issue=issue, demand=d, similarity=0.5,
                                                           representative=True) for d in members])
        o.hot_issues[key] = issue
        o.policy_studies[key] = hot_services.start_policy_study(user, issue, title=f"研究推进课题{key}")
    o.notifications["A"] = Notification.objects.create(recipient=w.handler, demand=a, text="甲件交办给您")
    o.notifications["X"] = Notification.objects.create(recipient=w.other_handler, demand=x, text="丁件交办给您")
    # 办理协同: a named handler and an internal note with a mention (never shown to an enterprise), 常用语 by side.
    handling_services.assign_demand(w.head, a, assignee=w.handler)
    handling_services.add_note(w.dispatcher, a, text="内部备注甲：@钱承办 请核实用工缺口")
    o.internal_notes.append("内部备注甲")
    for key, user in (("A", w.dispatcher), ("X", w.other_dispatcher)):
        o.canned_replies[key] = handling_services.create_canned_reply(
            user, scope="jurisdiction", title=f"常用语{key}", text="{企业名称}：您的诉求{诉求编号}已办理。")
    return o


# ---------------------------------------------------------------- who owns what

# Personal objects: their owner (and nobody else) may reach them; import jobs also the administrator.
ADMIN_SEES_EVERY = ("import_job", "demand_import_job")
PERSONAL_OWNER = {
    "export_job": {"A": "dispatcher", "X": "other_dispatcher"},
    "saved_filter": {"A": "dispatcher", "X": "other_dispatcher"},
    "import_job": {"A": "dispatcher", "X": "other_dispatcher"},
    "demand_import_job": {"A": "dispatcher", "X": "other_dispatcher"},
    "notification": {"A": "handler", "X": "other_handler"},
}


# Visits, campaigns and circulars by side: who may reach the one of 南山 (A) and the one of 宝安 (X).
REACH = {
    "visit": {"A": {"dispatcher", "supervisor", "leader", "specialist", "admin", "owner"},
              "X": {"other_dispatcher", "admin", "other_owner"}},
    "campaign": {"A": {"dispatcher", "supervisor", "leader", "admin"}, "X": {"other_dispatcher", "admin"}},
    "circular": {"A": {"dispatcher", "supervisor", "leader", "admin"}, "X": {"other_dispatcher", "admin"}},
    # A district's policies: its staff, the administrator, and (published, current) its enterprises.
    "policy": {"A": {*NANSHAN_STAFF, "admin", "owner", "neighbour_owner"},
               "X": {*BAOAN_STAFF, "admin", "other_owner"}},
    "policy_file": {"A": {*NANSHAN_STAFF, "admin", "owner", "neighbour_owner"},
                    "X": {*BAOAN_STAFF, "admin", "other_owner"}},
    # 热点问题 and the policy studies started from them: the district's leaders, dispatchers, supervisors.
    "hot_issue": {"A": {"dispatcher", "supervisor", "leader", "admin"}, "X": {"other_dispatcher", "admin"}},
    "policy_study": {"A": {"dispatcher", "supervisor", "leader", "admin"}, "X": {"other_dispatcher", "admin"}},
    # 政策兑现: an application (by its enterprise's place) and a batch (by its policy's) on each side, for staff.
    "application": {"A": {c for c in STAFF if sees_enterprise(c, "E")},
                    "X": {c for c in STAFF if sees_enterprise(c, "O")}},
    "batch": {"A": {*NANSHAN_STAFF, "admin"}, "X": {*BAOAN_STAFF, "admin"}},
    # 常用语 shared by a district: kept by its dispatchers and the administrator.
    "canned_reply": {"A": {"dispatcher", "admin"}, "X": {"other_dispatcher", "admin"}},
}


def in_reach(kind: str, caller: str) -> str | None:
    """The key of an object of `kind` the caller may reach, or None."""
    keys = [k for k in _keys(kind) if k not in out_of_reach(kind, caller)]
    if kind in PERSONAL_OWNER:  # the administrator reaches every import job, but owns none of the others
        keys = [k for k in keys if PERSONAL_OWNER[kind][k] == caller or (kind in ADMIN_SEES_EVERY and caller == "admin")]
    return keys[0] if keys else None


def _keys(kind: str) -> tuple:
    if kind in ("demand", "demand_verb"):
        return ("A", "B", "R", "X")
    if kind in ("attachment", "dispatched_demand"):
        return ("A", "B", "X")
    if kind in ("enterprise_code", "enterprise_pk"):
        return ("E", "N", "O")
    return ("A", "X")


def out_of_reach(kind: str, caller: str) -> list[str]:
    """Keys of the objects of `kind` the caller must not reach."""
    keys = _keys(kind)
    if kind in ("demand", "demand_verb", "dispatched_demand", "attachment", "notice"):
        return [k for k in keys if k not in SEES[caller]]
    if kind in ("enterprise_code", "enterprise_pk"):
        return [k for k in keys if not sees_enterprise(caller, k)]
    if kind in PERSONAL_OWNER:
        if caller == "admin" and kind in ADMIN_SEES_EVERY:
            return []
        return [k for k in keys if PERSONAL_OWNER[kind][k] != caller]
    if kind in REACH:
        return [k for k in keys if caller not in REACH[kind][k]]
    raise KeyError(kind)


def secrets_for(o: Objects, caller: str) -> list[str]:
    """Strings that must appear in no response to the caller: what identifies the demands and enterprises
    out of their reach, the other side's visits, and, for enterprise accounts, every internal note."""
    out = []
    for key, d in o.demands.items():
        if key not in SEES[caller]:
            out += [d.number, d.title]
    for key, e in o.enterprises.items():
        if not sees_enterprise(caller, key):
            out += [e.name, e.credit_code, e.contact_phone]
    for key, visit in o.visits.items():
        if caller not in REACH["visit"][key]:
            out.append(visit.discussed)
    for key, policy in o.policies.items():
        if caller not in REACH["policy"][key]:
            out += [policy.title, o.policy_files[key].name]
    if caller in ENTERPRISES or caller == "anonymous":
        out += o.internal_notes
    return [s for s in out if s]
