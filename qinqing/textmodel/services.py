"""Training, activating and rolling back the text models, and the suggestion they give.

The models learn from the deployment's own confirmed demands: a demand's category and lead unit count as
confirmed once a dispatcher has dispatched it (the dispatch form shows the suggestion; the dispatcher keeps
or corrects it). A kind of label becomes learnable once it has `QINQING_TEXTMODEL_MIN_EXAMPLES` confirmed
demands; until two are, no model is trained and the suggestion comes from the administrators' keyword
lexicon (each category's 识别关键词) and the category's 建议承办单位.

Every trained version is kept: `train_model` adds one (active at once, its nested cross-validated scores
stored with it), `activate_model` switches to any, `rollback_model` to the one before the active one.
"""

import logging
import pickle  # noqa: S403 - the models are pickled here and only ever read back here (see TextModel.pipeline)
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.demands.verbs import is_admin
from qinqing.lib import clock

from . import classifier, reading
from .models import Kind, TextModel

log = logging.getLogger(__name__)

_TTL_SECONDS = 60
ADMIN_ONLY = "只有管理员可以训练或切换文本模型。"


def min_examples() -> int:
    return settings.QINQING_TEXTMODEL_MIN_EXAMPLES


def _check_admin(user) -> None:
    if user is not None and not is_admin(user):
        raise PermissionDeniedError(ADMIN_ONLY)


# ---------------------------------------------------------------- training data

def training_examples(kind: str) -> tuple[list, list, dict]:
    """(rows of (pk, title, content), labels as ids, {id: name}) for the learnable labels of `kind`.

    Confirmed demands only (dispatched at least once), labels that are still in use (active categories,
    active units), and of those only the labels with at least `min_examples()` demands."""
    from django.db.models import Count

    from qinqing.accounts.models import Unit
    from qinqing.demands.models import Category, Demand

    if kind == Kind.CATEGORY:
        column, names = "category_id", dict(Category.objects.filter(active=True).values_list("pk", "name"))
    else:
        column, names = "lead_unit_id", dict(Unit.objects.filter(active=True).values_list("pk", "name"))
    confirmed = Demand.objects.filter(dispatched_at__isnull=False, **{f"{column}__in": list(names)})
    counts = dict(confirmed.values_list(column).annotate(n=Count("pk")).values_list(column, "n"))
    learnable = sorted(pk for pk, n in counts.items() if n >= min_examples())
    rows = list(confirmed.filter(**{f"{column}__in": learnable}).order_by("pk")
                .values_list("pk", "title", "content", column))
    return ([(pk, t, c) for pk, t, c, _ in rows], [str(label) for *_, label in rows],
            {str(pk): names[pk] for pk in learnable})


# ---------------------------------------------------------------- train, activate, roll back

def train_model(user, kind: str, *, folds: int = 5) -> TextModel:
    """Train a new version of the `kind` model on the confirmed demands, score it by nested stratified
    cross-validation, store it and make it the active one (the previous stays for rollback).

    `user` None is the scheduled worker. Refuses, changing nothing, when fewer than two labels have
    enough examples. Takes seconds to minutes: the admin queues it for the worker."""
    _check_admin(user)
    if kind not in Kind.values:
        raise DomainError(f"模型用途“{kind}”无效。")
    texts, labels, names = training_examples(kind)
    if len(names) < 2:
        raise DomainError(f"{Kind(kind).label}模型需要至少两个类别各有{min_examples()}条已交办诉求，"
                          f"目前{len(names)}个类别达到；在此之前由关键词给出建议。")
    started = time.perf_counter()
    docs = reading.docs_for(texts)  # segmented once per demand and kept: only the new ones are segmented now
    if len(docs) > classifier.LARGE:  # nested cross-validation would take hours: one fit scored on 20% held out
        model, scores = classifier.fit_large(docs, labels)
        protocol = f"分层留出20%验证（样本超过{classifier.LARGE}条，参数取样本数据上选定的一组）"
    else:
        k = min(folds, min(labels.count(label) for label in names))
        scores = classifier.cross_validate(docs, labels, k=k)
        model = classifier.Classifier().fit(docs, labels)
        protocol = f"嵌套分层{k}折交叉验证（每个训练折内部{model.folds}折选参数）"
    took = time.perf_counter() - started
    scores.update(
        labels=[names[label] for label in scores["labels"]],
        per_class={names[label]: f for label, f in scores["per_class"].items()},
        support={names[label]: n for label, n in scores["support"].items()},
        ids=scores["labels"], params=model.params, temperature=round(model.temperature, 3),
        seconds=round(took, 1), protocol=protocol,
    )
    with transaction.atomic():
        version = (TextModel.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1
        TextModel.objects.filter(kind=kind, active=True).update(active=False)
        trained = TextModel.objects.create(
            kind=kind, version=version, trained_at=clock.now(), trained_by=user, n_examples=len(docs),
            scores=scores, active=True, pipeline=pickle.dumps({"model": model, "names": names}))
        record("model_trained", actor=user, target=str(trained),
               detail={"macro_f1": scores["macro_f1"], "n_examples": len(docs), "labels": len(names)})
        _models.invalidate()  # this process at once (its own transaction sees the change)
        transaction.on_commit(_models.invalidate)
    return trained


def activate_model(user, model: TextModel) -> TextModel:
    """Make `model` the active version of its kind (any stored version, older or newer)."""
    _check_admin(user)
    with transaction.atomic():
        model = TextModel.objects.select_for_update().get(pk=model.pk)
        if model.active:
            raise DomainError(f"{model}已在使用中。")
        previous = TextModel.objects.filter(kind=model.kind, active=True).first()
        TextModel.objects.filter(kind=model.kind, active=True).update(active=False)
        model.active = True
        model.save(update_fields=["active"])
        record("model_activated", actor=user, target=str(model),
               detail={"previous": previous.version if previous else None, "version": model.version})
        _models.invalidate()  # this process at once (its own transaction sees the change)
        transaction.on_commit(_models.invalidate)
    return model


def rollback_model(user, kind: str) -> TextModel:
    """Go back to the version trained before the active one."""
    _check_admin(user)
    active = TextModel.objects.filter(kind=kind, active=True).first()
    if active is None:
        raise DomainError(f"{Kind(kind).label}模型尚未启用，无可回退的版本。")
    previous = TextModel.objects.filter(kind=kind, version__lt=active.version).order_by("-version").first()
    if previous is None:
        raise DomainError(f"{active}之前没有其他版本，无法回退。")
    return activate_model(user, previous)


def retrain_due(kind: str) -> bool:
    """Whether a demand was dispatched since the active model was trained (the schedule skips otherwise)."""
    from qinqing.demands.models import Demand

    active = TextModel.objects.filter(kind=kind, active=True).values_list("trained_at", flat=True).first()
    return active is None or Demand.objects.filter(dispatched_at__gt=active).exists()


# ---------------------------------------------------------------- the active models, per process

@dataclass
class Loaded:
    model: TextModel | None = None  # without the pipeline bytes
    clf: classifier.Classifier | None = None
    names: dict = field(default_factory=dict)


class _Models:
    """The active model of each kind, unpickled once per process; reloaded a minute after loading, or at
    once after this process trained or switched one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.loaded: dict[str, Loaded] = {}
        self.units: dict[int, str] = {}  # active units' names: the lexicon's suggested unit without a query
        self.taxonomy = None
        self.loaded_at = 0.0
        self.stale = True

    def invalidate(self) -> None:
        self.stale = True

    def _due(self, taxonomy) -> bool:
        return self.stale or self.taxonomy is not taxonomy or time.monotonic() - self.loaded_at > _TTL_SECONDS

    def _refresh(self) -> None:
        # Reloaded with the taxonomy too (a category changed, or a test began): labels and units stay in step.
        from qinqing.demands.taxonomy import get_taxonomy

        taxonomy = get_taxonomy()
        if self._due(taxonomy):
            with self.lock:
                if self._due(taxonomy):
                    from qinqing.accounts.models import Unit

                    self.stale = False
                    self.loaded = self._load(self.loaded)
                    self.units = dict(Unit.objects.filter(active=True).values_list("pk", "name"))
                    self.taxonomy = taxonomy
                    self.loaded_at = time.monotonic()

    def get(self, kind: str) -> Loaded:
        self._refresh()
        return self.loaded.get(kind) or Loaded()

    def unit_names(self) -> dict[int, str]:
        self._refresh()
        return self.units

    @staticmethod
    def _load(previous: dict) -> dict:
        loaded = {}
        active = {m.kind: m for m in TextModel.objects.filter(active=True).defer("pipeline")}
        for kind, model in active.items():
            if kind in previous and _same(previous[kind].model, model):
                loaded[kind] = previous[kind]  # same version: keep what is unpickled
                continue
            blob = TextModel.objects.filter(pk=model.pk).values_list("pipeline", flat=True).first()
            try:
                stored = pickle.loads(bytes(blob))  # noqa: S301 - written by train_model in this deployment
            except Exception:  # a model pickled by another scikit-learn version: suggest by keywords instead
                log.exception("文本模型 %s 无法载入，改用关键词建议", model)
                continue
            loaded[kind] = Loaded(model, stored["model"], stored["names"])
        return loaded


def _same(a: TextModel | None, b: TextModel) -> bool:
    return a is not None and (a.pk, a.version, a.trained_at, a.n_examples) == (b.pk, b.version, b.trained_at,
                                                                                b.n_examples)


_models = _Models()


# ---------------------------------------------------------------- corrections

def record_corrections(user, demand) -> list:
    """At dispatch (inside dispatch_demand's transaction): where the dispatcher's category or lead unit is
    not the one suggested for the demand's text, a Correction says what was suggested, by which model, and
    what was chosen. One INSERT when there is something to record, none otherwise."""
    from .models import Correction
    from .suggest import suggest

    suggestion = suggest(demand.title, demand.content)
    actor = user if getattr(user, "pk", None) else None  # the system (auto-dispatch) has no account
    rows = []
    if suggestion.category is not None and suggestion.category_id != demand.category_id:
        rows.append(Correction(
            demand=demand, kind=Kind.CATEGORY, model_id=suggestion.category_model_id,
            suggested=suggestion.category.name, suggested_id=suggestion.category_id,
            confidence=suggestion.category_confidence, chosen=demand.category.name, chosen_id=demand.category_id,
            actor=actor, created_at=clock.now()))
    if suggestion.unit_id is not None and demand.lead_unit_id and suggestion.unit_id != demand.lead_unit_id:
        rows.append(Correction(
            demand=demand, kind=Kind.UNIT, model_id=suggestion.unit_model_id, suggested=suggestion.unit_name,
            suggested_id=suggestion.unit_id, confidence=suggestion.unit_confidence,
            chosen=demand.lead_unit.name, chosen_id=demand.lead_unit_id, actor=actor, created_at=clock.now()))
    if rows:
        Correction.objects.bulk_create(rows)
    return rows


# ---------------------------------------------------------------- the administrators' switches

SETTING_FIELDS = ("auto_dispatch", "auto_dispatch_threshold", "duplicate_threshold", "duplicate_days")


def text_settings():
    """The one Settings row, or its defaults (unsaved) until an administrator first changes one: reading
    never writes."""
    from .models import Settings

    return Settings.objects.filter(pk=1).first() or Settings(pk=1)


def configure(user, **changes):
    """An administrator changes the switches (auto-dispatch on or off, its threshold, the duplicates'
    threshold and period): checked, saved, and written to the audit log with the old and new values."""
    if user is None or not is_admin(user):
        raise PermissionDeniedError("只有管理员可以修改文本智能设置。")
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise DomainError(f"未知的设置项：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        from .models import Settings

        config = Settings.objects.select_for_update().get_or_create(pk=1)[0]
        threshold = float(changes.get("auto_dispatch_threshold", config.auto_dispatch_threshold))
        if not 0.5 <= threshold <= 1:
            raise DomainError("自动派单置信度阈值应在 0.5 至 1 之间。")
        duplicate = float(changes.get("duplicate_threshold", config.duplicate_threshold))
        if not 0.2 <= duplicate <= 1:
            raise DomainError("重复诉求相似度阈值应在 0.2 至 1 之间。")
        days = int(changes.get("duplicate_days", config.duplicate_days))
        if not 1 <= days <= 366:
            raise DomainError("疑似重复的比对范围应在 1 至 366 天之间。")
        before = {f: getattr(config, f) for f in SETTING_FIELDS}
        config.auto_dispatch = bool(changes.get("auto_dispatch", config.auto_dispatch))
        config.auto_dispatch_threshold, config.duplicate_threshold, config.duplicate_days = threshold, duplicate, days
        after = {f: getattr(config, f) for f in SETTING_FIELDS}
        changed = {f: [before[f], after[f]] for f in SETTING_FIELDS if before[f] != after[f]}
        if changed:
            config.updated_at, config.updated_by = clock.now(), user
            config.save()
            record("config_changed", actor=user, target=str(config), detail=changed)
    return config


# ---------------------------------------------------------------- reading a new demand (the worker)

class _System:
    """The system acting without a person (as the overdue sweep does): an administrator's reach, no account,
    so the timeline entry it writes has no actor and reads 系统."""

    pk = None
    is_authenticated = is_active = is_superuser = True
    enterprise_id = unit_id = jurisdiction_id = None

    def has_role(self, *roles) -> bool:
        return True


SYSTEM = _System()


def auto_dispatch(demand):
    """自动派单: if an administrator switched it on and the text model's lead-unit suggestion for `demand`
    is above the threshold (strictly: a threshold of 1 switches it off in effect), the system dispatches it through dispatch_demand; the timeline says 自动派单 and
    the confidence. The dispatched demand, or None (switched off, no unit model, below the threshold, or the
    demand no longer awaiting dispatch)."""
    from qinqing.demands.models import State
    from qinqing.demands.services import dispatch_demand

    from .suggest import suggest

    config = text_settings()
    if not config.auto_dispatch or demand.state != State.RECEIVED:
        return None
    s = suggest(demand.title, demand.content)
    if s.unit_source != "model" or s.unit_id is None or s.unit_confidence <= config.auto_dispatch_threshold:
        return None
    category = s.category if s.category_source == "model" else None
    try:
        with transaction.atomic():
            return dispatch_demand(
                SYSTEM, demand, lead_unit=s.unit_id, category=category, version=demand.version,
                note=f"自动派单：文本模型建议主办单位{s.unit_name}，置信度{s.unit_confidence:.0%}"
                     f"（阈值{config.auto_dispatch_threshold:.0%}）")
    except DomainError as exc:  # taken by a dispatcher meanwhile, or the unit is no longer dispatchable
        log.info("自动派单未进行（%s）：%s", demand.pk, exc.message)
        return None


def read_received(demand) -> None:
    """What the system does with a new demand's text once it is received, in the worker that delivers the
    intake: segment it once for the classifier's training, index its signature for the duplicate check,
    then auto-dispatch it if switched on."""
    from . import duplicates

    try:
        with transaction.atomic():  # a savepoint: a failure here never costs the intake its notifications
            reading.read_demands([demand])
            duplicates.index_demand(demand)
            auto_dispatch(demand)
    except Exception:
        log.exception("读取新诉求 %s 的文本失败（查重索引、自动派单）", demand.pk)
