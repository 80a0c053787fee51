"""The admin for the registry's reference data and configuration."""

import pytest

from qinqing.enterprises import services
from qinqing.enterprises.models import CreditCodeOverride, Enterprise, EnterpriseEvent, SizeRule
from tests.conftest import login


@pytest.mark.parametrize("model", ["industrycode", "division", "sizerule", "fouraboverule", "tag",
                                   "creditcodeoverride", "yearlyfigures", "enterpriseevent", "importjob"])
def test_an_administrator_can_open_each_registry_list(world, model):
    response = login(world.admin).get(f"/admin/enterprises/{model}/")
    assert response.status_code == 200


def test_accepting_a_pilot_code_in_the_admin_goes_through_the_service(world):
    client = login(world.admin)
    refused = client.post("/admin/enterprises/creditcodeoverride/add/",
                          {"code": "91350100M000100Y43", "reason": "营业执照核验"})
    assert "无需特批" in refused.content.decode()
    client.post("/admin/enterprises/creditcodeoverride/add/", {"code": "91350211m0000xuf46", "reason": "营业执照核验"})
    override = CreditCodeOverride.objects.get()
    assert (override.code, override.accepted_by) == ("91350211M0000XUF46", world.admin)


def test_editing_a_size_threshold_recomputes_the_enterprises(world, django_capture_on_commit_callbacks):
    enterprise = services.register_enterprise(world.admin, {
        "name": "深圳市南头新公司", "credit_code": "91350100M000100Y43", "industry_code": "C3311",
        "jurisdiction": "南头街道", "year": 2025, "employees": 350, "revenue": 2500})
    assert enterprise.size == "medium"
    rule = SizeRule.objects.get(name="工业")
    data = {f.name: getattr(rule, f.name) for f in SizeRule._meta.fields if f.name != "id"}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["employees_medium"] = 400
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.admin).post(f"/admin/enterprises/sizerule/{rule.pk}/change/", data)
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.size == "small"


# ---------------------------------------------------------------- enterprises: only through the services

ENTERPRISE_ADMIN = "/admin/enterprises/enterprise/"


def _enterprise_form(enterprise, **changes) -> dict:
    """The admin change form of `enterprise` as the browser posts it, with `changes` typed in."""
    from qinqing.enterprises.forms import EnterpriseForm

    data = {k: ("" if v is None else v) for k, v in EnterpriseForm.initial_for(enterprise).items()}
    data.pop("credit_code")  # shown, never edited
    return {**data, **changes}


def _staff_dispatcher(user):
    """A dispatcher who was also given the Django admin and its enterprise permissions."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="enterprises",
                                                         codename__endswith="_enterprise"))
    return user


def test_an_admin_change_to_an_enterprise_writes_the_change_log_the_service_writes(
        world, django_capture_on_commit_callbacks):
    enterprise = world.enterprise
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.admin).post(f"{ENTERPRISE_ADMIN}{enterprise.pk}/change/", _enterprise_form(
            enterprise, contact_phone="13800000099", service_specialist="leader"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = EnterpriseEvent.objects.get(enterprise=enterprise)
    assert (event.verb, event.actor, event.note) == (EnterpriseEvent.Verb.UPDATE, world.admin, "管理后台修改")
    assert event.changes["contact_phone"] == ["13800000001", "13800000099"]
    assert event.changes["service_specialist_id"] == [world.specialist.pk, world.leader.pk]
    enterprise = Enterprise.objects.select_related("helpers").get(pk=enterprise.pk)
    assert (enterprise.contact_phone, enterprise.service_specialist) == ("13800000099", world.leader)


def test_registering_in_the_admin_goes_through_the_importers_cleaning_and_the_log(world):
    client = login(world.admin)
    data = {"name": "深圳市南头新材料有限公司", "credit_code": "91350100m000100y43", "industry_code": "2922",
            "jurisdiction": "440305001", "sector": ""}
    response = client.post(f"{ENTERPRISE_ADMIN}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    enterprise = Enterprise.objects.get(credit_code="91350100M000100Y43")
    assert (enterprise.industry_code, enterprise.sector) == ("C2922", "industry")
    assert EnterpriseEvent.objects.get(enterprise=enterprise).verb == EnterpriseEvent.Verb.REGISTER


def test_a_bad_value_in_the_admin_is_shown_in_the_importers_words_and_changes_nothing(world):
    enterprise = world.enterprise
    response = login(world.admin).post(f"{ENTERPRISE_ADMIN}{enterprise.pk}/change/",
                                       _enterprise_form(enterprise, industry_code="Z9999", contact_phone="1"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["industry_code"] == ["“Z9999”不是 GB/T 4754-2017 行业代码"]
    assert errors["contact_phone"] == ["“1”不像电话号码"]
    enterprise.refresh_from_db()
    assert enterprise.contact_phone == "13800000001"
    assert not EnterpriseEvent.objects.exists()


def test_an_edit_outside_the_users_district_is_refused(world):
    outsider = _staff_dispatcher(world.other_dispatcher)
    enterprise = world.enterprise
    client = login(outsider)
    response = client.post(f"{ENTERPRISE_ADMIN}{enterprise.pk}/change/",
                           _enterprise_form(enterprise, name="改名的公司"))
    assert response.status_code == 403
    page = client.get(f"{ENTERPRISE_ADMIN}{enterprise.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    enterprise.refresh_from_db()
    assert enterprise.name == "深圳市南头精密制造有限公司"
    assert not EnterpriseEvent.objects.exists()


def test_the_service_refuses_a_save_the_page_offered_when_the_rights_went_meanwhile(world):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    enterprise = world.enterprise
    request = RequestFactory().post("/")
    request.user = world.admin
    form_class = django_admin.site._registry[Enterprise].get_form(request, enterprise, change=True)
    form = form_class(_enterprise_form(enterprise, name="改名的公司"), instance=enterprise)
    form.user = world.supervisor  # the page was rendered for someone who may; the save is by someone who may not
    assert not form.is_valid()
    assert "没有修改该企业信息的权限" in str(form.non_field_errors())
    enterprise.refresh_from_db()
    assert enterprise.name == "深圳市南头精密制造有限公司" and not EnterpriseEvent.objects.exists()


def test_enterprises_cannot_be_deleted_in_the_admin(world):
    client = login(world.admin)
    enterprise = world.enterprise
    assert client.post(f"{ENTERPRISE_ADMIN}{enterprise.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = client.get(ENTERPRISE_ADMIN).content.decode()
    assert "delete_selected" not in listing
    client.post(ENTERPRISE_ADMIN, {"action": "delete_selected", "_selected_action": [enterprise.pk], "post": "yes"})
    assert Enterprise.objects.filter(pk=enterprise.pk).exists()
