"""Registry services: who may change what, the override path, yearly figures, the audit trail."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from qinqing.accounts.models import Role
from qinqing.demands.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from qinqing.enterprises import services
from qinqing.enterprises.errors import InvalidEnterpriseData
from qinqing.enterprises.models import (
    CreditCodeOverride,
    Enterprise,
    EnterpriseEvent,
    FourAboveRule,
    SizeRule,
    YearlyFigures,
)
from qinqing.visits import services as visits
from qinqing.visits.models import Assignment, Duty, Level

from .conftest import make_user

PILOT = "91350211M0000XUF46"  # 厦门云上晴空航空科技有限公司: legally issued, fails the GB check (expects R)


def new(world, **data):
    base = {"name": "深圳市南头新公司", "credit_code": "91350100M000100Y43", "industry_code": "C3311",
            "jurisdiction": "南头街道"}
    return services.register_enterprise(world.dispatcher, {**base, **data})


def test_a_nonconforming_code_needs_an_administrators_override_recorded_with_who_when_why(world):
    with pytest.raises(InvalidEnterpriseData, match="第18位应为“R”"):
        new(world, credit_code=PILOT)
    with pytest.raises(PermissionDeniedError):
        services.accept_nonconforming_code(world.dispatcher, PILOT, "营业执照核验")
    override = services.accept_nonconforming_code(world.admin, PILOT.lower(), "营业执照原件核验，早期试点代码")
    assert (override.code, override.accepted_by, override.reason) == (PILOT, world.admin, "营业执照原件核验，早期试点代码")
    enterprise = new(world, credit_code=PILOT)
    assert enterprise.credit_code_override == override
    enterprise.full_clean()  # the model validator accepts it too
    assert EnterpriseEvent.objects.get(verb="override").actor == world.admin


def test_only_a_wrong_check_character_can_be_overridden_and_only_once(world):
    with pytest.raises(DomainError, match="无需特批"):
        services.accept_nonconforming_code(world.admin, "91350100M000100Y43", "理由充分")
    with pytest.raises(DomainError, match="只有校验位不符"):
        services.accept_nonconforming_code(world.admin, "9111000060003IOZSV", "理由充分")
    with pytest.raises(DomainError, match="理由"):
        services.accept_nonconforming_code(world.admin, PILOT, "")
    services.accept_nonconforming_code(world.admin, PILOT, "营业执照核验")
    with pytest.raises(ConflictError):
        services.accept_nonconforming_code(world.admin, PILOT, "营业执照核验")
    assert CreditCodeOverride.objects.count() == 1


def test_registering_needs_a_manager_of_the_place(world):
    with pytest.raises(PermissionDeniedError):
        services.register_enterprise(world.handler, {"name": "x", "credit_code": "91350100M000100Y43",
                                                     "industry_code": "C3311", "jurisdiction": "南头街道"})
    with pytest.raises(InvalidEnterpriseData, match="不在您的管辖范围内"):
        services.register_enterprise(world.other_dispatcher, {"name": "x", "credit_code": "91350100M000100Y43",
                                                              "industry_code": "C3311", "jurisdiction": "南头街道"})


def test_an_enterprise_outside_the_users_sight_is_not_found_for_update(world):
    with pytest.raises(NotFoundError):
        services.update_enterprise(world.other_dispatcher, world.enterprise, {"name": "x"})
    with pytest.raises(PermissionDeniedError):
        services.update_enterprise(world.specialist, world.enterprise, {"name": "x"})


def test_registering_a_known_code_is_a_conflict(world):
    with pytest.raises(ConflictError, match="已在企业库中登记"):
        new(world, credit_code=world.enterprise.credit_code.lower())


def test_yearly_figures_keep_history_and_the_latest_year_sets_the_enterprise(world):
    enterprise = new(world)
    services.record_yearly_figures(world.dispatcher, enterprise, year=2024, employees=1200, revenue=45000)
    enterprise.refresh_from_db()
    assert (enterprise.size, enterprise.is_four_above, enterprise.figures_year) == ("large", True, 2024)
    services.record_yearly_figures(world.dispatcher, enterprise, year=2025, employees=15, revenue=Decimal("280"))
    services.record_yearly_figures(world.dispatcher, enterprise, year=2023, employees=1200, revenue=45000)
    enterprise.refresh_from_db()
    assert (enterprise.size, enterprise.is_four_above, enterprise.figures_year) == ("micro", False, 2025)
    history = list(YearlyFigures.objects.filter(enterprise=enterprise).values_list("year", "size"))
    assert history == [(2025, "micro"), (2024, "large"), (2023, "large")]
    assert enterprise.events.filter(verb="figures").count() == 3


def test_recording_the_same_year_again_merges_the_figures(world):
    enterprise = new(world)
    services.record_yearly_figures(world.dispatcher, enterprise, year=2025, employees=350)
    enterprise.refresh_from_db()
    assert enterprise.size == ""  # 工业 needs revenue as well
    services.record_yearly_figures(world.dispatcher, enterprise, year=2025, revenue=2500)
    figures = YearlyFigures.objects.get(enterprise=enterprise, year=2025)
    assert (figures.employees, figures.revenue, figures.size) == (350, Decimal("2500.00"), "medium")


def test_changing_a_threshold_and_refreshing_reclassifies_and_logs(world):
    enterprise = new(world)
    services.record_yearly_figures(world.dispatcher, enterprise, year=2025, employees=350, revenue=2500)
    FourAboveRule.objects.filter(name="规模以上工业").update(min_revenue=3000)
    SizeRule.objects.filter(name="工业").update(employees_medium=400)
    with pytest.raises(PermissionDeniedError):
        services.refresh_classifications(world.dispatcher)
    call_command("refresh_enterprise_sizes", stdout=io.StringIO())
    enterprise.refresh_from_db()
    assert (enterprise.size, enterprise.is_four_above) == ("small", False)
    event = enterprise.events.get(verb="classify")
    assert event.changes == {"size": ["medium", "small"], "is_four_above": [True, False]}


def test_the_audit_trail_is_append_only(world):
    new(world)
    with pytest.raises(TypeError):
        EnterpriseEvent.objects.all().update(note="x")
    with pytest.raises(TypeError):
        EnterpriseEvent.objects.all().delete()


def test_an_update_with_nothing_new_writes_no_event(world):
    services.update_enterprise(world.dispatcher, world.enterprise, {"name": world.enterprise.name})
    assert not world.enterprise.events.exists()


def test_the_reference_data_is_loaded_and_reloading_adds_nothing(world):
    from qinqing.enterprises.models import Division, IndustryCode, Tag

    assert IndustryCode.objects.count() == 1970
    assert IndustryCode.objects.filter(level="class").count() == 1380
    assert Division.objects.count() == 3219
    assert Division.objects.get(code="440305").parent.code == "440300"
    assert SizeRule.objects.count() == 16 and FourAboveRule.objects.count() == 9
    assert Tag.objects.filter(name="专精特新").exists()
    out = io.StringIO()
    call_command("load_registry_reference", stdout=out)
    assert "行业代码新增0条" in out.getvalue()
    assert Enterprise.objects.count() == 3


def test_correcting_the_industry_code_recomputes_the_latest_year(world):
    enterprise = new(world)
    services.record_yearly_figures(world.dispatcher, enterprise, year=2025, employees=60, revenue=600)
    enterprise.refresh_from_db()
    assert (enterprise.size, enterprise.is_four_above) == ("small", False)  # 工业: 600万 < the 2000万 line
    services.update_enterprise(world.dispatcher, enterprise, {"industry_code": "F5212"})  # a supermarket
    enterprise.refresh_from_db()
    assert (enterprise.sector, enterprise.size, enterprise.is_four_above) == ("wholesale_retail", "medium", True)


def test_naming_an_enterprises_helpers_moves_who_sees_it_and_the_trail_says_from_whom_to_whom(world):
    enterprise = new(world, service_specialist="specialist", contact_leader="王区长")
    assert (enterprise.service_specialist, enterprise.contact_leader) == (world.specialist, world.leader)
    successor = make_user("zy2", Role.SPECIALIST, full_name="卫专员", jurisdiction=world.district)
    assert not Enterprise.objects.visible_to(successor).filter(pk=enterprise.pk).exists()

    services.update_enterprise(world.dispatcher, enterprise, {"service_specialist": "zy2", "contact_leader": ""})

    enterprise = Enterprise.objects.get(pk=enterprise.pk)
    assert (enterprise.service_specialist, enterprise.contact_leader) == (successor, None)
    assert Enterprise.objects.visible_to(successor).filter(pk=enterprise.pk).exists()
    assert not Enterprise.objects.visible_to(world.specialist).filter(pk=enterprise.pk).exists()
    assert enterprise.events.get(verb="update").changes == {
        "service_specialist_id": [world.specialist.pk, successor.pk], "contact_leader_id": [world.leader.pk, None]}


def test_renaming_a_helper_in_the_registry_moves_the_assignment_so_both_pages_name_the_same_person(world):
    predecessor = visits.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST)
    successor = visits.register_cadre(world.dispatcher, make_user("zy2", Role.SPECIALIST, full_name="卫专员",
                                                                  jurisdiction=world.district), level=Level.SPECIALIST)
    first = visits.assign_contact(world.dispatcher, world.enterprise, predecessor, duty=Duty.SPECIALIST)

    services.update_enterprise(world.dispatcher, world.enterprise, {"service_specialist": "zy2"})

    first.refresh_from_db()
    now = Assignment.objects.current().get(enterprise=world.enterprise, duty=Duty.SPECIALIST)
    assert first.ended_on is not None
    assert (now.cadre, now.rule, now.assigned_by) == (successor, "企业库修改", world.dispatcher)
    assert now.next_contact_due and now.next_visit_due  # the cadence starts for the new holder
    assert Enterprise.objects.visible_to(successor.user).filter(pk=world.enterprise.pk).exists()

    # Someone who is not a registered cadre ends the duty's assignment and starts none.
    services.update_enterprise(world.dispatcher, world.enterprise, {"service_specialist": "王区长"})
    assert not Assignment.objects.current().filter(enterprise=world.enterprise, duty=Duty.SPECIALIST).exists()
    assert Enterprise.objects.get(pk=world.enterprise.pk).service_specialist == world.leader
