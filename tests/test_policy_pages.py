"""惠企政策 pages: the staff list, export and import, the rule editor, a policy's matches, the enterprise's
portal page (为您匹配的政策) and the 360° section, the API list, with their query counts."""

import datetime as dt
import io
import json
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from qinqing.audit.models import AuditEntry
from qinqing.enterprises.models import Enterprise, YearlyFigures
from qinqing.policies import services
from qinqing.policies.models import Policy, PolicyEvent, Status
from tests.conftest import bearer, login, on_day


def _policy(world, title="规上工业企业增产奖励", *, publish=True, rows=None, **extra):
    data = {"title": title, "issuer": "南山区工业和信息化局", "doc_number": "深南工信〔2026〕12号", "level": "district",
            "jurisdiction": world.district, "benefit_type": "grant", "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
            "amount_kind": "percent", "amount_percent": "1", "amount_metric": "revenue", "amount_year": "2025",
            "amount_cap": "50", **extra}
    policy = services.register_policy(world.dispatcher, data, rule_rows=rows)
    return services.publish_policy(world.dispatcher, policy) if publish else policy


def _factory(world):
    Enterprise.objects.filter(pk=world.enterprise.pk).update(industry_code="C3311", size="medium")
    YearlyFigures.objects.create(enterprise=world.enterprise, year=2025, revenue=Decimal("3200"))
    world.enterprise.refresh_from_db()


FOUR_ABOVE_FACTORY = [{"group": 1, "field": "four_above"}, {"group": 1, "field": "industry", "value": "C"}]


def test_the_enterprise_sees_its_matched_policy_with_the_estimate_and_days_left(world, django_assert_max_num_queries):
    _factory(world)
    _policy(world, rows=FOUR_ABOVE_FACTORY)
    _policy(world, "餐饮门店消费券补贴", rows=[{"group": 1, "field": "industry", "value": "H"}], amount_kind="actual")
    client = login(world.owner)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("policies_portal:home")).content.decode()
    matched, others = page.split("其他现行政策")
    assert "规上工业企业增产奖励" in matched and "可享 <strong>32.00万元</strong>" in matched
    assert "距申报截止还有 <strong>28</strong> 天" in matched
    assert "餐饮门店消费券补贴" in others


def test_an_expired_policy_is_gone_from_the_portal_the_day_after_it_ends(world):
    _factory(world)
    policy = _policy(world, rows=FOUR_ABOVE_FACTORY, valid_until="2026-12-10")
    client = login(world.owner)
    assert policy.title in client.get(reverse("policies_portal:home")).content.decode()
    with on_day(dt.date(2026, 12, 11)):
        client = login(world.owner)  # a new day, a new session
        assert policy.title not in client.get(reverse("policies_portal:home")).content.decode()
        assert client.get(reverse("policies_portal:detail", args=[policy.pk])).status_code == 404
        staff = login(world.dispatcher)
        assert policy.title not in staff.get(reverse("policies:list")).content.decode()
        assert policy.title in staff.get(reverse("policies:list") + "?state=expired").content.decode()


def test_the_staff_page_lists_eligible_enterprises_and_near_misses_in_few_queries(world, django_assert_max_num_queries):
    _factory(world)
    policy = _policy(world, rows=[*FOUR_ABOVE_FACTORY,
                                  {"group": 1, "field": "figure", "metric": "revenue", "year": 2025, "op": "gte",
                                   "value": "2000"}])
    Enterprise.objects.filter(pk=world.enterprise.pk).update(is_four_above=False)
    client = login(world.dispatcher)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("policies:detail", args=[policy.pk])).content.decode()
    near = page.split("差一项条件的企业</h2>")[1]
    assert world.enterprise.name in near and "四上企业" in near


def test_the_rule_editor_saves_rows_and_explains_them(world):
    policy = _policy(world, publish=False)
    form = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "0",
            "form-0-group": "1", "form-0-field": "four_above",
            "form-1-group": "1", "form-1-field": "growth", "form-1-metric": "revenue", "form-1-year": "2025",
            "form-1-op": "gte", "form-1-value": "10", "form-2-group": "1", "form-2-field": ""}
    response = login(world.dispatcher).post(reverse("policies:rule", args=[policy.pk]), form, follow=True)
    policy.refresh_from_db()
    assert policy.rule_text == "适用于：四上企业，且2025年营业收入比上年增长10%以上"
    assert policy.rule_text in response.content.decode()


def test_a_rule_that_never_matches_is_refused_by_the_editor_with_nothing_saved(world):
    policy = _policy(world, publish=False)
    form = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0",
            "form-0-group": "1", "form-0-field": "years", "form-0-op": "gte", "form-0-value": "10",
            "form-1-group": "1", "form-1-field": "years", "form-1-op": "lt", "form-1-value": "3"}
    response = login(world.dispatcher).post(reverse("policies:rule", args=[policy.pk]), form)
    assert "该规则永远不会匹配任何企业" in response.content.decode()
    policy.refresh_from_db()
    assert policy.rule == {}


def test_the_export_imports_back_and_a_bad_benefit_type_refuses_the_whole_file(world):
    _policy(world)
    client = login(world.dispatcher)
    exported = client.get(reverse("policies:list") + "?format=xlsx&state=all")
    assert exported.status_code == 200
    book = load_workbook(io.BytesIO(exported.content))
    rows = [[c.value for c in row] for row in book.active.iter_rows()]
    assert rows[1][0] == "政策名称" and rows[2][0] == "规上工业企业增产奖励"
    entry = AuditEntry.objects.get(action="export")
    assert entry.target == "惠企政策清单" and entry.detail["rows"] == 1

    upload = SimpleUploadedFile("政策.xlsx", exported.content)
    response = client.post(reverse("policies:import"), {"file": upload}, follow=True)
    assert "已导入1条政策" in response.content.decode()
    assert Policy.objects.filter(title="规上工业企业增产奖励", status=Status.DRAFT).count() == 1

    book = Workbook()
    sheet = book.active
    sheet.append(["政策名称", "发文机关", "层级", "适用区域", "扶持类型"])
    sheet.append(["人才安居补贴", "南山区人才工作局", "区", "南山区", "人才"])
    sheet.append(["设备更新贴息", "南山区工业和信息化局", "区", "南山区", "贴息补助"])
    stream = io.BytesIO()
    book.save(stream)
    before = Policy.objects.count(), PolicyEvent.objects.count()
    response = client.post(reverse("policies:import"), {"file": SimpleUploadedFile("清单.xlsx", stream.getvalue())})
    text = response.content.decode()
    assert "第3行：“扶持类型”的取值“贴息补助”无效" in text
    assert (Policy.objects.count(), PolicyEvent.objects.count()) == before


def test_the_enterprise_page_shows_the_policies_it_qualifies_for(world):
    _factory(world)
    _policy(world, rows=FOUR_ABOVE_FACTORY)
    page = login(world.dispatcher).get(reverse("enterprises:detail", args=[world.enterprise.credit_code]))
    section = page.content.decode().split('id="policies"')[1]
    assert "规上工业企业增产奖励" in section and "32.00万元" in section


def test_the_api_tells_an_enterprise_which_policies_it_qualifies_for(world, django_assert_max_num_queries):
    _factory(world)
    yes = _policy(world, rows=FOUR_ABOVE_FACTORY)
    no = _policy(world, "餐饮门店消费券补贴", rows=[{"group": 1, "field": "industry", "value": "H"}])
    headers, client = bearer(world.owner), Client()
    with django_assert_max_num_queries(8):
        body = json.loads(client.get("/api/v1/policies", **headers).content)
    items = {i["id"]: i for i in body["items"]}
    assert items[yes.pk]["eligible"] is True and items[yes.pk]["estimate"] == "32.00"
    assert items[no.pk]["eligible"] is False
    staff = json.loads(client.get("/api/v1/policies?state=all", **bearer(world.dispatcher)).content)
    assert {i["id"] for i in staff["items"]} == {yes.pk, no.pk} and staff["items"][0]["eligible"] is None


def test_an_attachment_is_served_to_who_sees_the_policy_and_a_disguised_file_is_refused(world):
    policy = _policy(world)
    client = login(world.dispatcher)
    client.post(reverse("policies:attach", args=[policy.pk]),
                {"file": SimpleUploadedFile("申报指南.pdf", b"%PDF-1.4\n%%EOF\n")})
    item = policy.attachments.get()
    assert login(world.owner).get(reverse("policies_portal:file", args=[item.pk])).status_code == 200
    assert login(world.other_owner).get(reverse("policies_portal:file", args=[item.pk])).status_code == 404
    assert login(world.other_dispatcher).get(reverse("policies:file", args=[item.pk])).status_code == 404
    response = client.post(reverse("policies:attach", args=[policy.pk]),
                           {"file": SimpleUploadedFile("表格.pdf", b"<html><script>x</script></html>")}, follow=True)
    assert "文件内容与扩展名不符" in response.content.decode()
    assert policy.attachments.count() == 1
