"""The API's contract: what /api/v1/openapi.json promises is what the API does, and its JSON is readable.

schemathesis loads the document from the application itself (WSGI, no network) and calls every operation
inside this test's database: first with the document's examples, which name the fixture demands below (one
per operation, each in the state its operation needs), then with generated requests. Every answer must be
documented (status, content type, body schema), no request may end in a server error, and a request the
document says is valid may be refused only for what no schema can say.
"""

import collections
import contextlib
import time

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.generation import GenerationMode
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test

from qinqing.accounts.models import Unit
from qinqing.api.schemas import (
    EXAMPLE_CREDIT_CODE,
    EXAMPLE_DEMANDS,
    EXAMPLE_FIRST_NUMBER,
    EXAMPLE_LEAD_UNIT,
    EXAMPLE_NUMBER,
)
from qinqing.demands import services
from qinqing.demands.models import Channel, DemandSequence
from qinqing.enterprises.models import Enterprise, Sector
from tests.conftest import at, bearer

# The schemathesis checks that apply to this API (its default set without the ones below, plus our own):
# negative_data_rejection is left out because pydantic reads bodies leniently on purpose ("5" for 5, a
# timestamp for a date), and positive_data_acceptance is replaced by `refused_only_for_what_no_schema_says`.
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")
# Operations whose documented examples do not yet name a fixture object in the state they need (a policy with
# eligible enterprises, a demand awaiting a pause decision, a reply being drafted): they are called and every
# contract check above applies to them, but none is known to reach 2xx yet. Listed so that a new operation
# without examples still fails this test, and so that fixing one forces its removal here.
NO_FIXTURE_YET = (
    "GET /api/v1/policies/{ref}/eligible", "GET /api/v1/enterprises/{ref}/policies",
    "POST /api/v1/textmodel/demands/{ref}/reply-check", "POST /api/v1/handoffs/demands/{ref}/pause",
    "POST /api/v1/handoffs/demands/{ref}/pause/approve", "POST /api/v1/handoffs/demands/{ref}/pause/refuse",
    "POST /api/v1/handoffs/demands/{ref}/resume",
)
FUZZ_EXAMPLES = 12  # generated requests per operation, after its examples: ~300 calls, well under a minute

# The handler's verbs (the lead unit's); the dispatcher takes every other operation.
HANDLER_VERBS = {"return", "accept", "contact", "plan", "request_extension", "reply"}

# Refusals a schema cannot express: an id or name that does not exist, a check character, one field
# against another, a time against the clock, a state (409). A 400 must carry one of these codes, and an
# "invalid" message must not be one of the services' shape messages, which the document states.
SEMANTIC_CODES = {400: {"invalid", "invalid_credit_code", "invalid_filter"}, 422: {"idempotency_key_reused"}}
SHAPE_MESSAGES = ("无效，应为", "必填", "不能超过", "请填写", "延期天数应", "请选择办理结果", "请选择评价", "不是有效的",
                  "不像电话号码", "年份应在", "数值过大", "不能为负数", "应为整数", "应为数字", "以“=”开头", "内容过长")
# Filter fields whose values name rows (the ledger's model choices, the registry's places and tags).
REFERENCE_FILTERS = ("类别：", "承办单位：", "属地：", "镇街园区：", "标签：", "行业大类：", "区域：")


def refused_only_for_what_no_schema_says(ctx, response, case):
    """A request generated valid by the document is accepted, or refused for a reason no schema can state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    body = response.json()
    code, detail = body.get("code"), body.get("detail", "")
    if code not in SEMANTIC_CODES.get(response.status_code, ()):
        raise AssertionError(f"{case.operation.label}: valid request refused with {response.status_code} {body}")
    if code == "invalid" and any(marker in detail for marker in SHAPE_MESSAGES):
        raise AssertionError(f"{case.operation.label}: the document does not state this constraint: {detail}")
    if code == "invalid_filter":
        problems = detail.removeprefix("筛选条件有误：").split("；")
        stated = [p for p in problems if not p.startswith(REFERENCE_FILTERS) and "开始日期不能晚于结束日期" not in p]
        if stated:
            raise AssertionError(f"{case.operation.label}: the document does not state this filter rule: {stated}")
    return None


@contextlib.contextmanager
def hypothesis_files_in(directory):
    """Hypothesis keeps caches (constants, unicode data) under ./.hypothesis; not in the checkout."""
    set_hypothesis_home_dir(directory)
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)


@contextlib.contextmanager
def connection_kept():
    """Django's WSGI handler closes the database connection after each request; inside a test that would
    close the test's transaction (the test client disconnects the same signal handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fixture_demands(world):
    """One demand per operation, numbered as qinqing.api.schemas.EXAMPLE_NUMBER says, each in its state."""
    Unit.objects.create(pk=EXAMPLE_LEAD_UNIT, name="南山区工业和信息化局", kind="department",
                        jurisdiction=world.district)
    d, h = world.dispatcher, world.handler
    enterprise = Enterprise.objects.create(name="深圳市示例精密机械有限公司", credit_code=EXAMPLE_CREDIT_CODE,
                                           sector=Sector.INDUSTRY, jurisdiction=world.town, contact_name="周总",
                                           contact_phone="13800000099")
    DemandSequence.objects.update_or_create(year=2026, defaults={"last": EXAMPLE_FIRST_NUMBER - 1})
    demands = {}
    for name in EXAMPLE_DEMANDS:
        demand = services.receive_demand(
            d, enterprise=enterprise, channel=Channel.VISIT, title=f"示例诉求：{name}",
            content="企业扩产后缺少数控机床操作工约30人，希望人社部门协助对接职业院校。", category=world.hiring,
            received_at=at("2026-11-30 10:00"))
        assert demand.number == EXAMPLE_NUMBER[name]
        demands[name] = demand.pk
    dispatched = ("return", "accept", "contact", "plan", "request_extension", "approve_extension",
                  "reject_extension", "escalate", "mark_long_term", "transfer", "reply", "evaluate", "reopen",
                  "close")
    for name in dispatched:
        services.dispatch_demand(d, demands[name], lead_unit=world.bureau)
    for name in dispatched[2:]:
        if name not in ("escalate", "mark_long_term", "transfer"):
            services.accept_demand(h, demands[name])
    for name in ("plan", "reply", "evaluate", "reopen", "close"):
        services.contact_enterprise(h, demands[name], method="电话")
    for name in ("approve_extension", "reject_extension"):
        services.request_extension(h, demands[name], days=5, reason="院校排期")
    for name in ("evaluate", "reopen", "close"):
        services.reply_demand(h, demands[name], reply="已对接两所院校", outcome="solved")
    services.evaluate_demand(d, demands["reopen"], evaluation="unsatisfied", comment="没解决")
    services.evaluate_demand(d, demands["close"], evaluation="satisfied")
    # qinqing.cooperation: a co-unit's opinion, a leader's 批示 and the lead unit's answer to one
    from qinqing.cooperation import services as cooperation

    services.dispatch_demand(d, demands["co_opinion"], lead_unit=world.bureau, co_units=[world.finance])
    for name in ("instruct", "answer_instruction"):
        services.dispatch_demand(d, demands[name], lead_unit=world.bureau)
        services.escalate_demand(d, demands[name], reason="提请联席办协调")
    cooperation.write_instruction(world.leader, demands["answer_instruction"], text="限期拿出方案")
    services.dispatch_demand(d, demands["assign"], lead_unit=world.bureau)
    return demands


def test_every_operation_keeps_the_documented_contract(world, fixture_demands, tmp_path):
    tokens = {"dispatcher": bearer(world.dispatcher)["HTTP_AUTHORIZATION"],
              "co_handler": bearer(world.co_handler)["HTTP_AUTHORIZATION"],
              "leader": bearer(world.leader)["HTTP_AUTHORIZATION"],
              "handler": bearer(world.handler)["HTTP_AUTHORIZATION"],
              "head": bearer(world.head)["HTTP_AUTHORIZATION"]}
    with connection_kept(), hypothesis_files_in(tmp_path / "hypothesis"):
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=FUZZ_EXAMPLES,
                                        deterministic=True, database="none")
        schema.config.checks.update(included_check_names=list(CHECKS))
        operations = [result.ok() for result in schema.get_all_operations()]
        statuses = collections.defaultdict(collections.Counter)
        failures = {}

        def call(case):
            verb = case.operation.path.rsplit("/", 1)[-1]
            role = "handler" if "{ref}" in case.operation.path and verb in HANDLER_VERBS else "dispatcher"
            role = "head" if verb == "assign" else role  # qinqing.handling: the lead unit's head assigns
            if "/cooperation/" in case.operation.path and case.method.upper() == "POST":
                role = {"opinions": "co_handler", "instructions": "leader", "answers": "handler"}[verb]
            case.headers = {**(case.headers or {}), "Authorization": tokens[role]}
            response = case.call()
            statuses[case.operation.label][response.status_code] += 1
            case.validate_response(response, additional_checks=[refused_only_for_what_no_schema_says])

        started = time.monotonic()
        # The examples of every operation first, so that no generated request changes a fixture demand before
        # its own operation's example has used it; then the generated requests.
        for phases in (["examples"], ["coverage", "fuzzing"]):
            schema.config.phases.update(phases=phases)
            for operation in operations:
                test = build_operation_test(config=schema.config, operation=operation, test_func=call,
                                            given_kwargs={}, feedback=FeedbackSources(),
                                            explicit_settings=hypothesis.settings(database=None, deadline=None))
                try:
                    test()
                except (Exception, BaseExceptionGroup) as exc:  # every operation runs; failures reported together
                    failures.setdefault(operation.label, str(exc)[:2000])
        elapsed = time.monotonic() - started

    requests = sum(sum(counts.values()) for counts in statuses.values())
    print(f"\n{len(operations)} operations, {requests} requests in {elapsed:.1f} s")
    for label, counts in statuses.items():
        print(f"    {label}: {dict(sorted(counts.items()))}")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    unreached = [op.label for op in operations if not any(200 <= s < 300 for s in statuses[op.label])]
    assert sorted(unreached) == sorted(NO_FIXTURE_YET), f"operations never answered 2xx: {unreached}"
    assert len(operations) >= 26
    assert not any(500 <= s for counts in statuses.values() for s in counts)


def test_a_chinese_error_arrives_as_utf8_text_not_as_escapes(world, client):
    r = client.get("/api/v1/demands/QQ2026-999999", **bearer(world.dispatcher))
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json; charset=utf-8"
    assert "诉求不存在或您无权查看。".encode() in r.content
    assert b"\\u" not in r.content


def test_a_demand_s_chinese_fields_arrive_as_utf8_text(world, demand, client):
    r = client.get(f"/api/v1/demands/{demand.number}", **bearer(world.dispatcher))
    assert r.status_code == 200
    assert "技术工人招聘困难".encode() in r.content and "待交办".encode() in r.content
    assert b"\\u" not in r.content
    assert r.json()["title"] == "技术工人招聘困难"


def test_the_openapi_document_itself_arrives_as_utf8_text(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert "诉求受理、台账与闭环办理".encode() in r.content
    assert b"\\u" not in r.content
    assert r.json()["info"]["title"] == "亲清 API"
