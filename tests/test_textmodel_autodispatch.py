"""自动派单: only when an administrator switches it on, only above the configured confidence, through
dispatch_demand as the system; the switch is audited."""

import pytest

from qinqing.audit.models import AuditEntry
from qinqing.demands import services
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.demands.models import Channel, Demand, DemandEvent, State
from qinqing.textmodel import services as textmodel
from qinqing.textmodel.models import Correction
from tests.test_textmodel_suggest import HIRING, LOANS, confirmed

LOAN = ("企业贷款到期", "银行不肯续贷，企业资金周转困难。")


@pytest.fixture(autouse=True)
def _fresh_models(settings):
    settings.QINQING_TEXTMODEL_MIN_EXAMPLES = 5
    textmodel._models.invalidate()
    yield
    textmodel._models.invalidate()


@pytest.fixture
def trained(world):
    """Category and unit models trained on five loan and five hiring demands (tests/test_textmodel_suggest.py)."""
    world.finance_kind.default_unit = None
    world.finance_kind.save(update_fields=["default_unit"])
    confirmed(world, LOANS, world.finance_kind, world.finance)
    confirmed(world, HIRING, world.hiring, world.bureau)
    Correction.objects.all().delete()
    return textmodel.train_model(world.admin, "category"), textmodel.train_model(world.admin, "unit")


def receive(world, django_capture_on_commit_callbacks):
    """A demand received as the API or the intake page does; its delivery (the worker, immediate in tests)
    reads it after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                         title=LOAN[0], content=LOAN[1])
    return Demand.objects.get(pk=demand.pk)


def test_a_new_demand_waits_for_a_dispatcher_while_auto_dispatch_is_off(world, trained,
                                                                      django_capture_on_commit_callbacks):
    assert textmodel.text_settings().auto_dispatch is False  # off unless an administrator switches it on
    demand = receive(world, django_capture_on_commit_callbacks)
    assert demand.state == State.RECEIVED and demand.lead_unit is None


def test_switched_on_the_system_dispatches_a_confident_suggestion_and_says_so_on_the_timeline(
        world, trained, django_capture_on_commit_callbacks):
    textmodel.configure(world.admin, auto_dispatch=True, auto_dispatch_threshold=0.5)
    demand = receive(world, django_capture_on_commit_callbacks)
    assert (demand.state, demand.lead_unit) == (State.DISPATCHED, world.finance)
    event = DemandEvent.objects.filter(demand=demand, verb="dispatch").get()
    assert event.actor is None  # the system, as the overdue sweep
    assert event.note.startswith(f"自动派单：文本模型建议主办单位{world.finance.name}，置信度") and "%（阈值50%）" in event.note
    confidence = int(event.note.split("置信度")[1].split("%")[0])
    assert 50 <= confidence <= 100


def test_below_the_threshold_the_demand_is_left_to_the_dispatcher(world, trained, django_capture_on_commit_callbacks):
    textmodel.configure(world.admin, auto_dispatch=True, auto_dispatch_threshold=1.0)
    demand = receive(world, django_capture_on_commit_callbacks)
    assert demand.state == State.RECEIVED
    assert not DemandEvent.objects.filter(demand=demand, verb="dispatch").exists()


def test_without_a_trained_unit_model_nothing_is_dispatched_by_keywords(world, django_capture_on_commit_callbacks):
    textmodel.configure(world.admin, auto_dispatch=True, auto_dispatch_threshold=0.5)
    assert receive(world, django_capture_on_commit_callbacks).state == State.RECEIVED


def test_only_an_administrator_switches_it_and_every_change_is_in_the_audit_log(world):
    with pytest.raises(PermissionDeniedError, match="只有管理员"):
        textmodel.configure(world.dispatcher, auto_dispatch=True)
    with pytest.raises(DomainError, match="0.5 至 1"):
        textmodel.configure(world.admin, auto_dispatch=True, auto_dispatch_threshold=0.2)
    assert textmodel.text_settings().auto_dispatch is False  # the refused change left nothing
    textmodel.configure(world.admin, auto_dispatch=True, auto_dispatch_threshold=0.8)
    entry = AuditEntry.objects.get(action="config_changed", target="文本智能设置")
    assert entry.detail == {"auto_dispatch": [False, True], "auto_dispatch_threshold": [0.9, 0.8]}
    assert entry.actor_id == world.admin.pk
