"""Personal information (个人信息保护法): phone numbers are masked in lists, exports and the API for those who do
not need them, shown in full where the work needs them, and revealed on request with a reason that goes to the
audit log (qinqing.lib.privacy, qinqing.accounts.privacy_views)."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.audit.models import AuditEntry
from qinqing.demands import services
from qinqing.demands.models import Channel
from qinqing.lib import privacy
from tests.conftest import bearer, login

FULL = "13800000001"  # the enterprise's contact phone in the conftest world
MASKED = "138****0001"
REPORTER = "13912345678"


# ---------------------------------------------------------------- the masks

@pytest.mark.parametrize("raw, masked", [
    ("13812345678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("+86 13812345678", "+86 138****5678"),
    ("0755-86001234", "0755-****1234"),
    ("0755 86001234", "0755-****1234"),
    ("010-6512345", "010-****2345"),
    ("0755-86001234转801", "0755-****1234转***"),
    ("88001234", "****1234"),
    ("12345", "****2345"),
    ("1234", "****"),
    ("", ""),
])
def test_phone_numbers_keep_only_what_identifies_the_line_not_the_person(raw, masked):
    assert privacy.mask_phone(raw) == masked


@pytest.mark.parametrize("raw, masked", [
    ("110101199003071234", "110101********1234"),
    ("11010119900307123x", "110101********123X"),
    ("110101900307123", "110101*****7123"),
    ("AB1234567", "*****4567"),
    ("", ""),
])
def test_id_numbers_keep_the_first_six_and_the_last_four(raw, masked):
    assert privacy.mask_id_number(raw) == masked


# ---------------------------------------------------------------- the rule

@pytest.fixture
def dispatched(world, demand):
    return services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])


@pytest.fixture
def personal(world):
    """A demand from a person (no enterprise), with their phone, received by the specialist."""
    return services.receive_demand(world.specialist, channel=Channel.HOTLINE, title="路灯坏了",
                                   content="园区门口路灯坏了一个月。", reporter_name="匿名市民",
                                   reporter_phone=REPORTER, jurisdiction=world.district)


def test_who_sees_a_demand_s_numbers_in_full(world, dispatched):
    sees = {name: privacy.may_see_personal(getattr(world, name), dispatched) for name in (
        "admin", "owner", "dispatcher", "handler", "head", "co_handler", "supervisor", "leader", "specialist",
        "other_dispatcher")}
    assert sees == {"admin": True, "owner": True, "dispatcher": True, "handler": True, "head": True,
                    "co_handler": False, "supervisor": False, "leader": False, "specialist": False,
                    "other_dispatcher": False}


def test_the_lead_unit_no_longer_sees_the_numbers_once_the_demand_is_closed(world, dispatched):
    type(dispatched).objects.filter(pk=dispatched.pk).update(state="closed")
    dispatched.refresh_from_db()
    assert not privacy.may_see_personal(world.handler, dispatched)
    assert privacy.may_see_personal(world.dispatcher, dispatched)


def test_lists_and_exports_are_masked_for_all_staff_but_administrators(world):
    assert privacy.may_see_personal(world.admin)
    assert privacy.may_see_personal(world.owner)  # an enterprise's lists hold only its own rows
    for name in ("dispatcher", "handler", "head", "supervisor", "leader", "specialist"):
        assert not privacy.may_see_personal(getattr(world, name)), name


def test_an_enterprise_s_specialist_and_its_town_s_dispatcher_see_its_contact(world):
    enterprise = type(world.enterprise).objects.select_related("jurisdiction", "helpers").get(pk=world.enterprise.pk)
    assert privacy.may_see_personal(world.specialist, enterprise)
    assert privacy.may_see_personal(world.dispatcher, enterprise)
    assert not privacy.may_see_personal(world.other_dispatcher, enterprise)
    assert not privacy.may_see_personal(world.leader, enterprise)
    assert not privacy.may_see_personal(world.neighbour_owner, enterprise)


# ---------------------------------------------------------------- pages

def page(user, url) -> str:
    response = login(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_assigned_handler_sees_the_contact_phone_in_full_on_the_demand_page(world, dispatched):
    html = page(world.handler, reverse("demands:detail", args=[dispatched.number]))
    assert f'href="tel:{FULL}"' in html
    assert MASKED not in html


def test_a_co_unit_sees_the_contact_phone_masked_with_a_way_to_reveal_it(world, dispatched):
    html = page(world.co_handler, reverse("demands:detail", args=[dispatched.number]))
    assert FULL not in html
    assert MASKED in html
    assert reverse("reveal_demand", args=[dispatched.number, "contact_phone"]) in html
    assert 'name="reason"' in html


def test_a_personal_demand_s_reporter_phone_is_masked_for_the_supervisor(world, personal):
    html = page(world.supervisor, reverse("demands:detail", args=[personal.number]))
    assert REPORTER not in html and "139****5678" in html


def test_a_handler_s_ledger_and_registry_show_no_full_number(world, dispatched):
    for url in (reverse("demands:ledger"), reverse("enterprises:list")):
        html = page(world.handler, url)
        assert FULL not in html, url
    assert MASKED in page(world.handler, reverse("enterprises:list"))


def test_the_registry_list_is_masked_even_for_the_dispatcher_but_not_the_administrator(world):
    assert FULL not in page(world.dispatcher, reverse("enterprises:list"))
    assert FULL in page(world.admin, reverse("enterprises:list"))


def test_the_enterprise_page_shows_its_specialist_the_contact_in_full_and_the_leader_masked(world):
    url = reverse("enterprises:detail", args=[world.enterprise.credit_code])
    assert f'href="tel:{FULL}"' in page(world.specialist, url)
    html = page(world.leader, url)
    assert FULL not in html and MASKED in html


def workbook_cells(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_a_handler_s_excel_export_has_the_phone_masked_under_a_header_the_importer_ignores(world, dispatched):
    response = login(world.handler).get(reverse("enterprises:export"))
    assert response.status_code == 200
    rows = workbook_cells(b"".join(response.streaming_content) if response.streaming else response.content)
    header = rows[0]
    assert "联系电话" not in header and "联系电话（已脱敏）" in header
    column = header.index("联系电话（已脱敏）")
    assert [row[column] for row in rows[1:]] == [MASKED]
    from qinqing.enterprises.rows import field_for_header

    assert field_for_header("联系电话（已脱敏）")[0] is None  # re-importing the file keeps the stored numbers


def test_the_administrator_s_export_has_the_numbers_in_full(world):
    response = login(world.admin).get(reverse("enterprises:export"))
    rows = workbook_cells(b"".join(response.streaming_content) if response.streaming else response.content)
    column = rows[0].index("联系电话")
    assert FULL in [row[column] for row in rows[1:]]


def docx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("word/document.xml").decode()


def test_the_dispatch_slip_carries_the_contact_for_the_lead_unit_and_masks_it_for_a_co_unit(world, dispatched):
    url = reverse("workbench:slip", args=[dispatched.number])
    assert FULL in docx_text(login(world.handler).get(url).content)
    text = docx_text(login(world.co_handler).get(url).content)
    assert FULL not in text and MASKED in text


# ---------------------------------------------------------------- the API

def test_the_api_list_masks_and_the_detail_follows_the_rule(world, client, personal):
    services.dispatch_demand(world.dispatcher, personal, lead_unit=world.bureau)
    listed = client.get("/api/v1/demands", **bearer(world.handler)).json()["items"]
    assert [d["reporter_phone"] for d in listed] == ["139****5678"]
    detail = client.get(f"/api/v1/demands/{personal.number}", **bearer(world.handler)).json()
    assert detail["reporter_phone"] == REPORTER  # the lead unit, while open
    detail = client.get(f"/api/v1/demands/{personal.number}", **bearer(world.supervisor)).json()
    assert detail["reporter_phone"] == "139****5678"


def test_the_enterprise_api_masks_lists_and_shows_the_specialist_its_enterprise(world, client):
    listed = client.get("/api/v1/enterprises", **bearer(world.dispatcher)).json()["items"]
    assert {e["contact_phone"] for e in listed if e["contact_phone"]} == {MASKED}
    ref = world.enterprise.credit_code
    assert client.get(f"/api/v1/enterprises/{ref}", **bearer(world.specialist)).json()["contact_phone"] == FULL
    assert client.get(f"/api/v1/enterprises/{ref}", **bearer(world.leader)).json()["contact_phone"] == MASKED


def test_an_enterprise_sees_its_own_numbers_in_full_through_the_api(world, client, demand):
    listed = client.get("/api/v1/enterprises", **bearer(world.owner)).json()["items"]
    assert [e["contact_phone"] for e in listed] == [FULL]


# ---------------------------------------------------------------- reveal

def reveal(client, number, reason, field="contact_phone", **headers):
    return client.post(reverse("reveal_demand", args=[number, field]), {"reason": reason}, **headers)


def test_revealing_with_a_reason_shows_the_number_and_leaves_one_audit_entry(world, dispatched):
    client = login(world.co_handler)
    response = reveal(client, dispatched.number, "协办需与企业核实融资需求")
    assert response.status_code == 200
    assert FULL in response.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == world.co_handler
    assert entry.target == f"诉求 {dispatched.number}"
    assert entry.detail["field"] == "contact_phone" and entry.detail["reason"] == "协办需与企业核实融资需求"


def test_with_htmx_the_revealed_number_replaces_the_masked_one_in_place(world, personal):
    response = reveal(login(world.supervisor), personal.number, "回访核实", field="reporter_phone",
                      HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<span class="personal revealed" id="pi-demand-{personal.pk}-reporter_phone">')
    assert REPORTER in html


@pytest.mark.parametrize("reason, message", [("", "请填写查看原因。"), ("   ", "请填写查看原因。"),
                                             ("查" * 201, "查看原因不能超过200个字")])
def test_revealing_without_a_proper_reason_changes_nothing_and_says_why(world, dispatched, reason, message):
    response = reveal(login(world.co_handler), dispatched.number, reason)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and FULL not in html
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_the_htmx_refusal_comes_back_as_the_form_with_the_reason_why(world, dispatched):
    response = reveal(login(world.co_handler), dispatched.number, "", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps 200 answers only
    assert "请填写查看原因。" in html and FULL not in html and MASKED in html
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_someone_who_may_not_see_the_demand_gets_the_chinese_404_and_nothing_is_logged(world, dispatched):
    response = reveal(login(world.other_handler), dispatched.number, "想看看")
    assert response.status_code == 404
    assert FULL not in response.content.decode()
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_an_unknown_field_is_a_404(world, dispatched):
    assert reveal(login(world.co_handler), dispatched.number, "核实", field="password").status_code == 404


def test_reveal_is_a_post_only(world, dispatched):
    url = reverse("reveal_demand", args=[dispatched.number, "contact_phone"])
    assert login(world.co_handler).get(url).status_code == 405


def test_an_enterprise_s_contact_can_be_revealed_from_its_page(world):
    client = login(world.leader)
    url = reverse("reveal_enterprise", args=[world.enterprise.credit_code, "contact_phone"])
    response = client.post(url, {"reason": "包联走访前电话预约"})
    assert response.status_code == 200 and FULL in response.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.target.startswith(f"企业 {world.enterprise.credit_code}")


def test_an_enterprise_account_cannot_use_the_reveal_address(world, demand):
    response = reveal(login(world.owner), demand.number, "看看")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_the_intake_s_answer_equals_the_read_back_with_the_number_as_the_receiver_sees_it(world, client):
    headers = bearer(world.specialist)
    created = client.post("/api/v1/demands", json.dumps({
        "channel": "visit", "title": "路灯坏了", "content": "园区门口路灯坏了一个月。", "reporter_name": "匿名",
        "reporter_phone": REPORTER}), content_type="application/json", **headers)
    assert created.status_code == 201, created.content
    assert created.json()["reporter_phone"] == REPORTER  # the first receiver took it down
    assert created.json() == client.get(f"/api/v1/demands/{created.json()['id']}", **headers).json()
