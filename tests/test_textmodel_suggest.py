"""Suggestions at intake and dispatch: the keywords until enough demands are confirmed, then a model trained
on them, versioned, rolled back, shown on the dispatch form and in the API, and corrected by dispatchers."""

import html as htmllib

import pytest
from django.urls import reverse

from qinqing.audit.models import AuditEntry
from qinqing.demands import services
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.demands.models import Channel
from qinqing.textmodel import services as textmodel
from qinqing.textmodel.models import Correction, TextModel
from qinqing.textmodel.suggest import suggest
from tests.conftest import bearer, login

# Written for these tests: demands about loans (融资难, the finance bureau) and about hiring (引才用工难,
# the human resources bureau), five of each.
LOANS = [("流动资金贷款到期", "银行要求企业提前还贷，希望协调银行续贷。"),
         ("申请贴息贷款迟迟未批", "去年申报的技改贴息贷款至今没有结果。"),
         ("担保公司要求反担保", "企业融资需要担保，担保公司要求反担保，贷款难。"),
         ("信用贷款额度太低", "企业想申请银行信用贷款，额度远不够周转。"),
         ("票据贴现利率太高", "承兑汇票贴现利率高，企业融资成本大，希望银行降低利率。")]
HIRING = [("技术工人招聘困难", "企业扩产后缺少数控技工，希望人社部门协助招聘。"),
          ("一线员工流失严重", "春节后一线工人返岗率低，企业招工难。"),
          ("高校毕业生招聘补贴", "企业招用高校毕业生，想了解招聘补贴如何申请。"),
          ("员工技能培训补贴", "企业组织员工技能培训，希望申请培训补贴。"),
          ("招工渠道少", "企业招工渠道少，希望人社部门组织招聘会。")]


@pytest.fixture(autouse=True)
def _fresh_models(settings):
    """Each test sees only the models it trains (the active models are cached per process)."""
    settings.QINQING_TEXTMODEL_MIN_EXAMPLES = 5
    textmodel._models.invalidate()
    yield
    textmodel._models.invalidate()


def confirmed(world, texts, category, unit):
    for title, content in texts:
        demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                         title=title, content=content, category=category)
        services.dispatch_demand(world.dispatcher, demand, lead_unit=unit)


@pytest.fixture
def trained(world):
    world.finance_kind.default_unit = None  # the model, not the category's unit, must name the unit
    world.finance_kind.save(update_fields=["default_unit"])
    confirmed(world, LOANS, world.finance_kind, world.finance)
    confirmed(world, HIRING, world.hiring, world.bureau)
    Correction.objects.all().delete()  # the keywords' misses while the examples were made
    return textmodel.train_model(world.admin, "category"), textmodel.train_model(world.admin, "unit")


def test_until_enough_demands_are_confirmed_the_keywords_suggest_and_training_is_refused(world):
    suggestion = suggest("流动资金贷款到期", "希望银行续贷")
    assert suggestion.category == world.finance_kind and suggestion.category_source == "lexicon"
    assert suggestion.words and all(word in "流动资金贷款到期希望银行续贷" for word in suggestion.words)
    assert 0 < suggestion.category_confidence <= 1
    with pytest.raises(DomainError, match="至少两个类别各有5条已交办诉求"):
        textmodel.train_model(world.admin, "category")
    assert not TextModel.objects.exists()


def test_a_trained_model_suggests_category_and_unit_with_confidence_and_the_words_behind_them(world, trained):
    category_model, unit_model = trained
    assert (category_model.version, category_model.active, category_model.n_examples) == (1, True, 10)
    assert 0 <= category_model.macro_f1 <= 1 and set(category_model.scores["per_class"]) == {"融资难", "引才用工难"}
    assert AuditEntry.objects.filter(action="model_trained", target=str(category_model)).exists()
    suggestion = suggest("企业贷款到期", "银行不肯续贷，企业资金周转困难。")
    assert (suggestion.category, suggestion.category_source) == (world.finance_kind, "model")
    assert (suggestion.unit_id, suggestion.unit_name, suggestion.unit_source) == (
        world.finance.pk, world.finance.name, "model")
    assert 0.5 < suggestion.category_confidence <= 1 and 0.5 < suggestion.unit_confidence <= 1
    assert "贷款" in suggestion.words or "续贷" in suggestion.words


def test_intake_files_a_demand_by_the_keywords_without_asking_the_model(world, trained, monkeypatch):
    # The model is for the dispatcher: at intake it cost more than the rest of the intake (bench/intake.py).
    def no_model(*args, **kwargs):
        raise AssertionError("intake asked the text model")

    monkeypatch.setattr("qinqing.textmodel.classifier.Classifier.explain", no_model)
    monkeypatch.setattr("qinqing.textmodel.classifier.Classifier.decision", no_model)
    demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                     title="贷款续贷难", content="银行抽贷，企业贷款到期无法续贷。")
    assert demand.category == world.finance_kind  # 贷款 is one of 融资难's keywords


def test_only_an_administrator_trains_switches_or_rolls_back(world, trained):
    for call in (lambda: textmodel.train_model(world.dispatcher, "category"),
                 lambda: textmodel.rollback_model(world.dispatcher, "category"),
                 lambda: textmodel.activate_model(world.leader, trained[0])):
        with pytest.raises(PermissionDeniedError, match="只有管理员"):
            call()


def test_rolling_back_activates_the_previous_version_and_keeps_the_newer_one(world, trained):
    second = textmodel.train_model(world.admin, "category")
    assert second.version == 2 and list(TextModel.objects.filter(kind="category", active=True)) == [second]
    back = textmodel.rollback_model(world.admin, "category")
    assert back.pk == trained[0].pk and back.active
    assert TextModel.objects.filter(kind="category").count() == 2
    entry = AuditEntry.objects.filter(action="model_activated").latest("id")
    assert entry.detail == {"previous": 2, "version": 1}
    with pytest.raises(DomainError, match="之前没有其他版本"):
        textmodel.rollback_model(world.admin, "category")
    assert suggest("企业贷款到期", "银行不肯续贷。").category_model_id == trained[0].pk


def test_a_dispatcher_who_chooses_otherwise_leaves_a_correction_and_one_who_agrees_does_not(world, trained):
    demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                     title="企业贷款到期", content="银行不肯续贷，企业资金周转困难。")
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, category=world.hiring)
    corrections = {c.kind: c for c in Correction.objects.filter(demand=demand)}
    assert (corrections["category"].suggested, corrections["category"].chosen) == ("融资难", "引才用工难")
    assert (corrections["unit"].suggested, corrections["unit"].chosen) == (world.finance.name, world.bureau.name)
    assert corrections["unit"].model_id == trained[1].pk and corrections["unit"].actor == world.dispatcher
    agreed = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                     title="信用贷款", content="希望银行增加企业信用贷款额度。")
    services.dispatch_demand(world.dispatcher, agreed, lead_unit=world.finance)
    assert not Correction.objects.filter(demand=agreed).exists()


def test_the_dispatch_form_shows_the_suggestion_and_preselects_the_suggested_unit(world, trained):
    demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                     title="企业贷款到期", content="银行不肯续贷，企业资金周转困难。")
    page = htmllib.unescape(login(world.dispatcher).get(reverse("demands:detail", args=[demand.number]))
                            .content.decode())
    assert "建议：融资难（" in page and "模型；依据：" in page
    assert f"建议：{world.finance.name}（" in page
    assert f'<option value="{world.finance.pk}" selected>' in page


def test_the_api_returns_the_suggestion_to_whoever_may_dispatch_and_null_to_others(world, trained, client):
    created = client.post("/api/v1/demands", {
        "credit_code": world.enterprise.credit_code, "channel": "hotline", "title": "企业贷款到期",
        "content": "银行不肯续贷，企业资金周转困难。"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="textmodel-suggestion-1", **bearer(world.dispatcher))
    assert created.status_code == 201, created.content
    assert created.json()["suggestion"] is None  # intake does not run the model: reading the demand does
    suggestion = client.get(f"/api/v1/demands/{created.json()['id']}", **bearer(world.dispatcher)).json()["suggestion"]
    assert suggestion["category"] == {"id": world.finance_kind.pk, "name": "融资难"}
    assert suggestion["lead_unit"] == {"id": world.finance.pk, "name": world.finance.name}
    assert suggestion["category_source"] == suggestion["lead_unit_source"] == "model" and suggestion["words"]
    assert client.get(f"/api/v1/demands/{created.json()['id']}", **bearer(world.leader)).json()["suggestion"] is None


def test_the_nightly_retraining_runs_only_after_new_demands_were_dispatched(world, trained):
    from qinqing.textmodel.tasks import retrain_text_models

    assert retrain_text_models.call_local() == {}
    confirmed(world, LOANS[:1], world.finance_kind, world.finance)
    assert retrain_text_models.call_local() == {"category": 2, "unit": 2}
    assert TextModel.objects.get(kind="unit", active=True).trained_by is None  # the schedule, not a person


def test_an_administrator_trains_from_the_admin_and_sees_each_versions_scores(
        world, trained, django_capture_on_commit_callbacks):
    client = login(world.admin)
    changelist = reverse("admin:textmodel_textmodel_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "train_categories", "_selected_action": [trained[0].pk]})
    assert list(TextModel.objects.filter(kind="category").values_list("version", "active")) == [(2, True), (1, False)]
    page = client.get(changelist).content.decode()
    assert "交叉验证宏F1" in page and f"{trained[0].macro_f1:.4f}" in page
    client.post(changelist, {"action": "roll_back", "_selected_action": [trained[0].pk]})
    assert TextModel.objects.get(kind="category", active=True).version == 1
    assert login(world.dispatcher).get(changelist).status_code == 302  # not staff: the admin's login
