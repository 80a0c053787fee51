"""Every change to a demand goes through one of these verb-named functions.

Each one checks that the user may act (visibility, role, state), runs in one transaction,
refuses stale edits (the caller passes the `version` it saw), recomputes the deadline
columns and appends a timeline entry. Notifications are queued after commit.
"""

import contextlib
import contextvars
import datetime as dt
import functools
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import Case, Q, Subquery, Value, When, signals
from django.db.models.functions import Length
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock, uploads
from qinqing.lib.text import clean_text, tokens
from qinqing.workdays.calendar import get_calendar

from .clock import DEADLINE_FIELDS, refresh_deadlines, rule_for
from .errors import ConflictError, DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from .models import (
    OPEN_STATES,
    Attachment,
    Category,
    Channel,
    Demand,
    DemandEvent,
    DemandSequence,
    EnvironmentAspect,
    Evaluation,
    Extension,
    Nature,
    Outcome,
    Stage,
    State,
)
from .search import PENDING
from .taxonomy import aspect_label, get_taxonomy
from .verbs import VERB_LABELS, is_admin, refusal

RECEIVER_ROLES = (Role.DISPATCHER, Role.SPECIALIST, Role.HANDLER, Role.UNIT_HEAD, Role.ADMIN)
CLOCK_SKEW = dt.timedelta(minutes=10)


# ---------------------------------------------------------------- plumbing

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("quiet", default=False)


# Kept under their old names: importers, the demo and benchmarks replay history through the services.
acting_at = clock.acting_at
_now = clock.now


@contextlib.contextmanager
def notifications_suppressed():
    """Write history without telling anyone (bulk loads of past demands)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def awaits_delivery() -> bool:
    """Whether a timeline entry written now is to be told to anyone (its `awaiting_delivery` mark)."""
    return not _quiet.get()


def _words_left_to_the_worker() -> bool:
    """Whether an intake leaves its search words to the worker that delivers its notifications
    (search.index_received): when one does, not in a quiet history load, nor with Huey immediate (tests)."""
    return awaits_delivery() and not HUEY.immediate


def _queue_notifications(event_id: int) -> None:
    from qinqing.demands.tasks import queue_delivery

    if not _quiet.get():
        transaction.on_commit(lambda: queue_delivery(event_id))


def _log(demand, user, verb, from_state, note="", data=None, internal=False) -> DemandEvent:
    event = DemandEvent.objects.create(
        demand=demand, actor=user if user and user.pk else None, verb=verb, from_state=from_state or "",
        to_state=demand.state, note=clean_text(note), data=data or {}, internal=internal, created_at=_now(),
        awaiting_delivery=awaits_delivery(),
    )
    _queue_notifications(event.pk)
    return event


def lock_visible(user, demand_or_id, version: int | None = None) -> Demand:
    """For services of other apps (qinqing.handling…): the demand `user` may see, locked for this transaction,
    at the version the user saw; NotFoundError or ConflictError otherwise. Call inside transaction.atomic()."""
    return _lock(user, demand_or_id, version)


def log_step(user, demand, verb: str, *, note: str = "", data=None, internal: bool = False) -> DemandEvent:
    """For services of other apps: one timeline entry on `demand` (state unchanged), notified after commit as
    every step is. The caller checks permission and holds the demand's lock (lock_visible) in its transaction."""
    return _log(demand, user, verb, demand.state, note, data, internal)


def _lock(user, demand_or_id, version: int | None) -> Demand:
    """Fetch a demand the user may see, locked, and check it is the version the user saw."""
    pk = demand_or_id.pk if isinstance(demand_or_id, Demand) else demand_or_id
    try:
        demand = (Demand.objects.visible_to(user).select_for_update(of=("self",))
                  .select_related("jurisdiction", "enterprise", "category").get(pk=pk))
    except (Demand.DoesNotExist, ValueError, TypeError):
        raise NotFoundError("诉求不存在或您无权查看。") from None
    if version is not None and int(version) != demand.version:
        raise ConflictError("该诉求已被他人更新，您看到的是旧版本。请刷新页面后再操作。")
    return demand


def _authorize(verb: str, user, demand) -> None:
    refused = refusal(verb, user, demand)
    if refused is None:
        return
    kind, message = refused
    raise {"state": IllegalTransition, "permission": PermissionDeniedError}.get(kind, DomainError)(message)


def _save(demand: Demand, fields: Iterable[str], recompute: bool = True) -> None:
    """Write the changed columns only if nobody else changed the demand since it was read."""
    if recompute:
        refresh_deadlines(demand, get_calendar(), rule_for(demand.category))
        fields = [*fields, *DEADLINE_FIELDS]
    now = _now()
    # By column (lead_unit_id, not lead_unit): reading a foreign key the caller set by id would fetch its row.
    columns = {demand._meta.get_field(f).attname for f in fields}
    values = {c: getattr(demand, c) for c in columns}
    updated = Demand.objects.filter(pk=demand.pk, version=demand.version).update(
        **values, version=demand.version + 1, updated_at=now)
    if updated != 1:
        raise ConflictError("该诉求已被他人更新，您看到的是旧版本。请刷新页面后再操作。")
    demand.version += 1
    demand.updated_at = now


def _required(text: str, what: str, max_length: int | None = None) -> str:
    text = clean_text(text or "").strip()
    if not text:
        raise DomainError(f"请填写{what}。")
    if max_length and len(text) > max_length:
        raise DomainError(f"{what}不能超过{max_length}个字。")
    return text


def dispatch_scope(demand) -> Jurisdiction:
    """The district (or nearest non-town ancestor) whose units may take the demand."""
    codes = demand.jurisdiction.path.strip("/").split("/")
    ancestors = sorted(Jurisdiction.objects.filter(code__in=codes), key=lambda j: len(j.path))
    district = [j for j in ancestors if j.level == Jurisdiction.Level.DISTRICT]
    if district:
        return district[-1]
    above_town = [j for j in ancestors if j.level != Jurisdiction.Level.TOWN]
    return above_town[-1] if above_town else demand.jurisdiction


def dispatchable_units(demand):
    """The units a demand may be dispatched to: active handling units of its district's subtree, never a
    supervision office (督查室 supervises the handling, it does not handle). The dispatch form offers these
    and dispatch_demand accepts only these, whichever way the choice arrives."""
    # dispatch_scope's rule as a subquery: checking a dispatch is then one statement, not two (issue 15's bulk
    # dispatch of 200 waits on each round trip).
    return (Unit.objects.filter(active=True, jurisdiction__path__startswith=Subquery(_scope_paths(demand)[:1]))
            .exclude(kind=Unit.Kind.SUPERVISION).select_related("jurisdiction"))


def _scope_paths(demand):
    """The paths of `demand`'s jurisdiction and its ancestors, dispatch_scope's choice first: the deepest
    district, else the deepest level above a town, else the demand's own jurisdiction (the deepest town)."""
    codes = demand.jurisdiction.path.strip("/").split("/")
    rank = Case(When(level=Jurisdiction.Level.DISTRICT, then=Value(0)),
                When(~Q(level=Jurisdiction.Level.TOWN), then=Value(1)), default=Value(2))
    return Jurisdiction.objects.filter(code__in=codes).order_by(rank, Length("path").desc()).values("path")


def _dispatch_units(demand, lead_unit, co_units) -> tuple[Unit, list[Unit]]:
    """The lead and co-units named by instance or id, each one of `dispatchable_units(demand)`."""
    def pk(value):
        try:
            return int(value.pk if isinstance(value, Unit) else value)
        except (TypeError, ValueError):
            return None

    wanted = [pk(lead_unit), *(pk(u) for u in co_units or () if u)]
    found = {u.pk: u for u in dispatchable_units(demand).filter(pk__in=[p for p in wanted if p is not None])}
    names = [("主办单位", wanted[0]), *(("协办单位", p) for p in wanted[1:])]
    for what, p in names:
        if p not in found:
            raise DomainError(f"{what}不存在、已停用或不在本诉求可交办的范围内（本区承办单位，不含督查室）。")
    return found[wanted[0]], [found[p] for p in wanted[1:]]


@functools.cache
def _converting_once_cursor_class():
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    class ConvertingOnceCursor(SQLiteCursorWrapper):
        """Converts each statement from Django's %s style to SQLite's ? once per process, not per call."""

        converted: dict[str, str] = {}

        def convert_query(self, query, *, param_names=None):
            if param_names is not None:
                return super().convert_query(query, param_names=param_names)
            sql = self.converted.get(query)
            if sql is None:
                if len(self.converted) > 256:  # only fixed statements come here; a bound all the same
                    self.converted.clear()
                sql = self.converted[query] = super().convert_query(query)
            return sql

    return ConvertingOnceCursor


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Binds parameters server-side and has PostgreSQL prepare each statement (psycopg keeps them)."""

        logged = False

        def execute(self, query, params=None, *, prepare=None, binary=None):
            super().execute(query, params, prepare=True, binary=binary)
            if self.logged and self._query is None:
                # psycopg leaves the query unset when it runs a prepared statement, and Django's query log
                # reads it from there: the statement with its placeholders.
                self._query = self._convert_query(query, params)
            return self

    return PreparingCursor


def prepared_cursor():
    """A cursor of the default database for the fixed statements every intake runs: on PostgreSQL each is
    parsed and planned once per connection instead of on every call; on SQLite its placeholders are
    converted once per process.

    Django binds parameters client-side, so PostgreSQL parses and plans each statement anew; for the token
    query (four tables joined) planning cost four times running it, 349 µs against 87 (pg_stat_statements),
    and the enterprise lookup 158 µs against 32. Only for statements whose text is composed once per process
    (psycopg keeps up to 100 per connection). Wrapped as Django wraps its own, so the debug log and the
    tests' query capture see every statement.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "sqlite":
        # sqlite3 keeps its own statement cache; Django converts the placeholders with a regular expression
        # over the whole statement on every call: 12 µs for the demand's INSERT, 8 % of an intake in all.
        conn.close_if_health_check_failed()
        conn.ensure_connection()
        with conn.wrap_database_errors:
            return conn._prepare_cursor(conn.connection.cursor(factory=_converting_once_cursor_class()))
    if conn.vendor != "postgresql":
        return conn.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    conn.close_if_health_check_failed()  # what conn.cursor() does before creating its cursor
    conn.ensure_connection()
    with conn.wrap_database_errors:
        if conn.connection.prepare_threshold is None:  # Django's setting: psycopg then prepares nothing at all
            # psycopg's default; only this cursor binds server-side, and it asks for preparation each time.
            conn.connection.prepare_threshold = 5
        cursor = _preparing_cursor_class()(conn.connection)
        cursor.logged = conn.queries_logged
        if conn.timezone != conn.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(conn.timezone, cursor)  # as DatabaseWrapper.create_cursor
        return conn._prepare_cursor(cursor)


def _reserve_numbers(year: int, count: int) -> int:
    """Advance the year's counter by `count` in one statement and return its new value.

    The row stays locked until the transaction ends, so numbers are gapless and never issued twice.
    """
    sql = "UPDATE demands_demandsequence SET last = last + %s WHERE year = %s RETURNING last"
    with prepared_cursor() as cursor:
        cursor.execute(sql, [count, year])
        row = cursor.fetchone()
        if row is None:  # the year's first demand: create its row once, then count as usual
            try:
                with transaction.atomic():
                    DemandSequence.objects.create(year=year, last=0)
            except IntegrityError:
                pass  # another request created it first
            cursor.execute(sql, [count, year])
            row = cursor.fetchone()
    return row[0]


def suggest_category(title: str, content: str) -> Category | None:
    """The category the text suggests at intake (staff confirm at dispatch): the administrators' keywords'
    (qinqing.textmodel.suggest.intake_category; the model's suggestion waits for the dispatch form)."""
    from qinqing.textmodel.suggest import intake_category

    return intake_category(title, content)


def _fallback_category() -> Category:
    active = get_taxonomy().active_categories
    category = next((c for c in active if c.name == "其它"), None) or (active[-1] if active else None)
    if category is None:
        raise DomainError("尚未配置诉求类别，请联系管理员。")
    return category


def validate_attachments(files) -> None:
    """Attachments are checked by their content, not their name (qinqing.lib.uploads)."""
    files = list(files or [])
    if len(files) > settings.QINQING_ATTACHMENTS_PER_DEMAND:
        raise DomainError(f"附件最多{settings.QINQING_ATTACHMENTS_PER_DEMAND}个。")
    for upload in files:
        try:
            uploads.check_upload(upload, allowed=settings.QINQING_ATTACHMENT_EXTENSIONS,
                                 max_bytes=settings.QINQING_ATTACHMENT_MAX_BYTES)
        except uploads.UploadRefused as exc:
            raise DomainError(exc.message) from None


# ---------------------------------------------------------------- intake

MAX_BATCH = 200


@dataclass
class Intake:
    """One demand to receive, as a form, the API, an importer or a visit report supplies it."""

    channel: str
    title: str
    content: str
    enterprise: Enterprise | None = None
    category: Category | None = None
    received_at: dt.datetime | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    jurisdiction: object = None
    attachments: Sequence = ()
    nature: str = Nature.PROBLEM  # 困难问题 or 意见建议


def receive_demand(user, *, channel: str, title: str, content: str, enterprise: Enterprise | None = None,
                   category: Category | None = None, received_at: dt.datetime | None = None,
                   reporter_name: str = "", reporter_phone: str = "", jurisdiction=None,
                   attachments=(), nature: str = Nature.PROBLEM) -> Demand:
    """受理: register a demand from any channel and start its 1231 clock."""
    intake = Intake(channel=channel, title=title, content=content, enterprise=enterprise, category=category,
                    received_at=received_at, reporter_name=reporter_name, reporter_phone=reporter_phone,
                    jurisdiction=jurisdiction, attachments=attachments, nature=nature)
    return receive_demands(user, [intake])[0]


def receive_demands(user, intakes: Sequence[Intake]) -> list[Demand]:
    """受理 several demands at once (an integration such as the 12345 hotline pushing its new work orders).

    All or none: every item is checked before anything is written, and a refused item is named by its
    position. Numbers are reserved per year in one statement, at the end, so that concurrent intakes
    wait on the year's counter only while their rows are inserted.
    """
    _check_receiver(user)
    if not intakes:
        raise DomainError("没有需要受理的诉求。")
    if len(intakes) > MAX_BATCH:
        raise DomainError(f"一次最多受理{MAX_BATCH}件诉求，本次提交了{len(intakes)}件。")
    now = _now()
    demands = []
    outside = _outside_reach(user, [intake.enterprise for intake in intakes])
    for position, intake in enumerate(intakes, start=1):
        try:
            demands.append(_prepared_demand(user, intake, now, outside))
        except DomainError as exc:
            if len(intakes) == 1:
                raise
            raise type(exc)(f"第{position}件：{exc.message}") from None

    with transaction.atomic():
        by_year: dict[int, list[Demand]] = {}
        for demand in demands:
            by_year.setdefault(timezone.localtime(demand.received_at).year, []).append(demand)
        for year, rows in by_year.items():
            last = _reserve_numbers(year, len(rows))
            for offset, demand in enumerate(rows, start=last - len(rows) + 1):
                demand.number = f"QQ{year}-{offset:06d}"
        if len(demands) == 1:
            _insert_demand(demands[0])
        else:
            Demand.objects.bulk_create(demands)
        for demand, intake in zip(demands, intakes, strict=True):
            for upload in intake.attachments or ():
                Attachment.objects.create(demand=demand, file=upload, name=upload.name[:200], size=upload.size,
                                          uploaded_by=user, uploaded_at=now)
        events = [DemandEvent(demand=d, actor=user, verb="receive", from_state="", to_state=d.state,
                              note=f"经{d.get_channel_display()}受理",
                              data={"channel": d.channel, "category": d.category.name}, created_at=now,
                              awaiting_delivery=awaits_delivery())
                  for d in demands]
        if len(events) == 1:
            _insert_event(events[0])
        else:
            DemandEvent.objects.bulk_create(events)
        for demand, event in zip(demands, events, strict=True):
            demand.receipt_event = event  # the API's 201 body shows it without reading it back
            _queue_notifications(event.pk)
    return demands


# Django's own field classes whose get_db_prep_save returns a str, int or bool unchanged on SQLite and
# PostgreSQL: for such a value `_Insert` skips the preparation (tests/test_intake_fast.py compares the result
# with the ORM's for a demand and its timeline entry). Subclasses are not listed: they may convert. Integer
# fields are not either: on PostgreSQL they wrap the value in its exact type (Int2, Int4) for the driver.
_PASS_THROUGH = frozenset({models.CharField, models.TextField, models.BooleanField})
_PLAIN = frozenset({str, int, bool})
# ... and those that send None as None (not JSONField: None there is JSON null).
_NONE_AS_NONE = _PASS_THROUGH | {models.DateField, models.DateTimeField, models.IntegerField,
                                 models.SmallIntegerField, models.BigIntegerField, models.PositiveIntegerField,
                                 models.PositiveSmallIntegerField, models.PositiveBigIntegerField,
                                 models.ForeignKey}


class _Insert:
    """One new row of `model` by INSERT … RETURNING its id, the statement composed once per process.

    `save(force_insert=True)` builds and compiles the INSERT anew for every row, which cost a single intake
    more CPU than running its two INSERTs. The values are prepared as the ORM prepares them (each field's
    `pre_save` and `get_db_prep_save`, skipped where that returns the value as it is) and the instance ends
    as `save()` leaves it; if anything listens to the model's save signals, `save()` itself runs so that the
    receivers do too.
    """

    def __init__(self, model):
        self.model, self.vendor = model, ""

    def _compose(self, conn) -> None:
        meta, qn = self.model._meta, conn.ops.quote_name
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        self.columns = [(f, type(f) in _PASS_THROUGH or (type(f) is models.ForeignKey and isinstance(
            f.target_field, models.AutoField | models.BigAutoField)), type(f) in _NONE_AS_NONE) for f in fields]
        self.sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(meta.pk.column)}")
        self.vendor = conn.vendor

    def values(self, obj, conn) -> list:
        """The column values of `obj` as the ORM would send them."""
        if self.vendor != conn.vendor:
            self._compose(conn)
        values = []
        for field, plain, none_as_none in self.columns:
            if plain or none_as_none:
                value = getattr(obj, field.attname)
                if (value is None and none_as_none) or (plain and value.__class__ in _PLAIN):
                    values.append(value)
                    continue
            values.append(field.get_db_prep_save(field.pre_save(obj, True), conn))
        return values

    def __call__(self, obj) -> None:
        if signals.pre_save.has_listeners(self.model) or signals.post_save.has_listeners(self.model):
            obj.save(force_insert=True)
            return
        conn = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a thread-local lookup per attribute
        values = self.values(obj, conn)
        with prepared_cursor() as cursor:
            cursor.execute(self.sql, values)
            obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = conn.alias


_insert_demand = _Insert(Demand)
_insert_event = _Insert(DemandEvent)


OUTSIDE_REACH = "该企业不在您的管辖范围内，您无权为其受理诉求。"


def mark_within_reach(user, enterprise: Enterprise) -> Enterprise:
    """Note on `enterprise` that a lookup already applied the intake rule for `user` (its query selected
    only enterprises the user may see), so that receiving does not ask the database again."""
    enterprise._within_reach_of = user.pk
    return enterprise


def _outside_reach(user, enterprises: Iterable[Enterprise | None]) -> set[int]:
    """The enterprises (ids) `user` may not receive demands for, checked together in one query at most.

    The rule is the intake form's, applied on every path (form, API, visits, imports): a receiver files only
    for an enterprise they may see (`Enterprise.objects.visible_to`): a dispatcher within their jurisdiction,
    a specialist for the enterprises they serve, a unit for enterprises whose demands it handles. A
    dispatcher's jurisdiction is checked on the rows already loaded; lookups that selected through the rule
    say so (`mark_within_reach`); only the rest is asked of the database.
    """
    if is_admin(user) or (user.has_role(Role.ENTERPRISE) and not user.has_role(*RECEIVER_ROLES)):
        return set()  # an enterprise account files for its own enterprise, whatever it names
    by_path = user.jurisdiction.path if user.jurisdiction_id and user.has_role(
        Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) else None
    pending = set()
    for enterprise in enterprises:
        if enterprise is None or getattr(enterprise, "_within_reach_of", None) == user.pk:
            continue
        if by_path is not None and enterprise.jurisdiction.path.startswith(by_path):
            continue
        pending.add(enterprise.pk)
    if not pending:
        return set()
    return pending - set(Enterprise.objects.visible_to(user).filter(pk__in=pending).values_list("pk", flat=True))


def _check_receiver(user) -> None:
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("请先登录。")
    if user.has_role(Role.ENTERPRISE) and not user.has_role(*RECEIVER_ROLES):
        if not user.enterprise_id:
            raise PermissionDeniedError("您的账号尚未关联企业，请联系管理员。")
    elif not (user.has_role(*RECEIVER_ROLES) or is_admin(user)):
        raise PermissionDeniedError("您无权受理诉求。")


# Sized for a district's registry: at 2,048 an import of a 5,000-enterprise ledger missed 60 % of the time.
@functools.lru_cache(maxsize=16384)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(tokens(name))


def search_words(title: str, content: str, enterprise_name: str) -> str:
    """`lib.text.search_text(title, content, enterprise_name)`, with the enterprise name's words segmented
    once per process: the same enterprises file again and again, and segmenting is most of an intake's CPU."""
    words = dict.fromkeys(tokens(title, content))
    words.update(dict.fromkeys(_name_words(enterprise_name)))
    return " " + " ".join(words) + " "


def _prepared_demand(user, intake: Intake, now: dt.datetime, outside: Collection[int] = ()) -> Demand:
    """The unsaved demand for one intake, checked, with its deadlines; the number comes at insert."""
    channel, enterprise, jurisdiction = intake.channel, intake.enterprise, intake.jurisdiction
    if user.has_role(Role.ENTERPRISE) and not user.has_role(*RECEIVER_ROLES):
        enterprise = user.enterprise
        if channel not in (Channel.ONLINE, Channel.WECHAT):
            channel = Channel.ONLINE
    if channel not in Channel.values:
        raise DomainError(f"来源渠道“{channel}”无效，应为：{'、'.join(Channel.labels)}。")
    title = _required(intake.title, "诉求标题", 120)
    nature = intake.nature or Nature.PROBLEM
    if nature not in Nature.values:
        raise DomainError(f"诉求性质“{nature}”无效，应为：{'、'.join(Nature.labels)}。")
    content = _required(intake.content, "诉求内容", 5000)
    received_at = intake.received_at
    if received_at is None:
        received_at = now
    elif timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at)
    if received_at > now + CLOCK_SKEW:
        raise DomainError("受理时间不能晚于当前时间。")
    if received_at.year < 2004:
        raise DomainError("受理时间早于工作日历的起始年份（2004年）。")
    reporter_name = clean_text(intake.reporter_name or "").strip()
    if enterprise is None and not reporter_name:
        raise DomainError("请选择企业，或填写个人反映人姓名（匿名可填“匿名”）。")
    if enterprise is not None and enterprise.pk in outside:
        raise PermissionDeniedError(OUTSIDE_REACH)
    jurisdiction = enterprise.jurisdiction if enterprise is not None else (jurisdiction or user.jurisdiction)
    if jurisdiction is None:
        raise DomainError("请指定诉求的属地。")
    if (user.has_role(Role.DISPATCHER) and not is_admin(user) and user.jurisdiction_id
            and not jurisdiction.path.startswith(user.jurisdiction.path)):
        raise PermissionDeniedError(OUTSIDE_REACH)
    category = intake.category
    if category is not None and not category.active:
        raise DomainError(f"类别“{category.name}”已停用。")
    validate_attachments(intake.attachments)
    category = category or suggest_category(title, content) or _fallback_category()
    demand = Demand(
        enterprise=enterprise, reporter_name=reporter_name[:40],
        reporter_phone=clean_text(intake.reporter_phone or "").strip()[:30], jurisdiction=jurisdiction, channel=channel,
        title=title, content=content, category=category, received_at=received_at, first_receiver=user,
        aspect_id=get_taxonomy().suggested_aspect_id(category.pk),  # suggested; confirmed at dispatch
        nature=nature,
        state=State.RECEIVED,
        search_text=(PENDING if _words_left_to_the_worker()
                     else search_words(title, content, enterprise.name if enterprise else "")),
        created_at=now, updated_at=now,
    )
    refresh_deadlines(demand, get_calendar(), rule_for(category))
    return demand


# ---------------------------------------------------------------- dispatch centre

def _aspect(value) -> EnvironmentAspect:
    """An active business-environment aspect by instance or id, from the cached taxonomy (no query)."""
    pk = value.pk if isinstance(value, EnvironmentAspect) else value
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise DomainError("所选营商环境方面不存在或已停用。") from None
    found = next((a for a in get_taxonomy().aspects if a.pk == pk), None)
    if found is None:
        raise DomainError("所选营商环境方面不存在或已停用。")
    return found


def dispatch_demand(user, demand, *, lead_unit, co_units=(), category=None, aspect=None, nature=None,
                    note: str = "", version: int | None = None) -> Demand:
    """交办 (or re-dispatch after a return): name the lead unit and any co-units.

    The dispatcher confirms the kind (category) and the business-environment aspect. An aspect that was
    only the old kind's suggestion follows a corrected kind; a change of aspect is noted on the timeline,
    as is a change of nature (困难问题 or 意见建议: which of seed 000's lists the demand belongs to)."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("dispatch", user, demand)
        lead, co = _dispatch_units(demand, lead_unit, co_units)
        if any(u.pk == lead.pk for u in co):
            raise DomainError("协办单位不能与主办单位相同。")
        old_category_id, old_aspect_id, old_nature = demand.category_id, demand.aspect_id, demand.nature
        if nature not in (None, ""):
            if nature not in Nature.values:
                raise DomainError(f"诉求性质“{nature}”无效，应为：{'、'.join(Nature.labels)}。")
            demand.nature = nature
        if category is not None:
            if not isinstance(category, Category):
                category = Category.objects.filter(pk=category, active=True).first()
                if category is None:
                    raise DomainError("所选类别不存在或已停用。")
            demand.category = category
        taxonomy = get_taxonomy()
        if aspect not in (None, ""):
            demand.aspect = _aspect(aspect)
        elif (demand.category_id != old_category_id
              and old_aspect_id == taxonomy.suggested_aspect_id(old_category_id)):
            demand.aspect_id = taxonomy.suggested_aspect_id(demand.category_id)
        from_state = demand.state
        redispatch = from_state == State.RETURNED
        demand.lead_unit = lead
        demand.state = State.DISPATCHED
        demand.dispatched_at = _now()
        demand.accepted_at = None
        _save(demand, ["lead_unit", "state", "dispatched_at", "accepted_at", "category", "aspect", "nature"])
        demand.co_units.set(co)
        data = {"lead_unit": lead.name, "co_units": [u.name for u in co], "redispatch": redispatch,
                "category": demand.category.name, "aspect": aspect_label(demand.aspect_id)}
        notes = [note.strip()]
        if demand.aspect_id != old_aspect_id:
            old, new = aspect_label(old_aspect_id) or "未归类", data["aspect"] or "未归类"
            data["old_aspect"] = old
            notes.append(f"营商环境方面由“{old}”改为“{new}”")
        if demand.nature != old_nature:
            data["nature"] = demand.get_nature_display()
            notes.append(f"性质由“{Nature(old_nature).label}”改为“{data['nature']}”")
        _log(demand, user, "dispatch", from_state, "；".join(n for n in notes if n), data)
        # Where the dispatcher chose otherwise than the suggestion, a training signal (qinqing.textmodel).
        from qinqing.textmodel.services import record_corrections

        record_corrections(user, demand)
        from qinqing.cooperation.services import sync_co_tasks

        sync_co_tasks(demand, [u.pk for u in co])  # each co-unit's 协办 task, with its opinion's due date
    return demand


def return_demand(user, demand, *, reason: str, version: int | None = None) -> Demand:
    """退回: the lead unit sends back a demand that is not theirs, with the reason."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("return", user, demand)
        reason = _required(reason, "退回理由", 1000)
        from_state, unit_name = demand.state, demand.lead_unit.name
        demand.state = State.RETURNED
        demand.return_count += 1
        demand.lead_unit = None
        _save(demand, ["state", "return_count", "lead_unit"])
        demand.co_units.clear()
        _log(demand, user, "return", from_state, reason, {"unit": unit_name})
        from qinqing.cooperation.services import sync_co_tasks

        sync_co_tasks(demand)  # the co-units' tasks are withdrawn with them
    return demand


def accept_demand(user, demand, *, note: str = "", version: int | None = None) -> Demand:
    """签收: the lead unit takes the demand on."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("accept", user, demand)
        from_state = demand.state
        demand.state = State.ACCEPTED
        demand.accepted_at = _now()
        _save(demand, ["state", "accepted_at"])
        _log(demand, user, "accept", from_state, note.strip())
    return demand


def contact_enterprise(user, demand, *, method: str, contacted_at: dt.datetime | None = None,
                       note: str = "", version: int | None = None) -> Demand:
    """联系企业: record how and when the handler reached the enterprise."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("contact", user, demand)
        method = _required(method, "联系方式", 40)
        now = _now()
        contacted_at = contacted_at or now
        if timezone.is_naive(contacted_at):
            contacted_at = timezone.make_aware(contacted_at)
        if contacted_at > now + CLOSE_ENOUGH or contacted_at < demand.received_at - CLOSE_ENOUGH:
            raise DomainError("联系时间应在受理时间之后、当前时间之前。")
        from_state = demand.state
        if demand.accepted_at is None:
            demand.accepted_at = now
        if demand.contacted_at is None:
            demand.contacted_at = contacted_at
        if demand.state in (State.DISPATCHED, State.ACCEPTED):
            demand.state = State.CONTACTED
        _save(demand, ["state", "accepted_at", "contacted_at"])
        _log(demand, user, "contact", from_state, note.strip(),
             {"method": method, "contacted_at": timezone.localtime(contacted_at).isoformat()})
    return demand


CLOSE_ENOUGH = CLOCK_SKEW


def feed_back_path(user, demand, *, path: str, version: int | None = None) -> Demand:
    """反馈解决路径: tell the enterprise how and by when the problem will be solved."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("plan", user, demand)
        demand.solution_path = _required(path, "解决路径", 3000)
        from_state = demand.state
        demand.state = State.PLANNED
        if demand.path_at is None:
            demand.path_at = _now()
        _save(demand, ["state", "solution_path", "path_at"])
        _log(demand, user, "plan", from_state, demand.solution_path)
    return demand


def request_extension(user, demand, *, days: int, reason: str, version: int | None = None) -> Extension:
    """申请延期: ask the dispatcher for more working days to resolve."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("request_extension", user, demand)
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise DomainError("延期天数应为整数。") from None
        if not 1 <= days <= 60:
            raise DomainError("延期天数应在1至60个工作日之间。")
        reason = _required(reason, "延期理由", 1000)
        extension = Extension.objects.create(demand=demand, days=days, reason=reason, requested_by=user,
                                             requested_at=_now())
        _save(demand, [], recompute=False)
        _log(demand, user, "request_extension", demand.state, reason, {"days": days, "extension": extension.pk})
    return extension


def _decide_extension(user, demand, verb, approve: bool, note: str, version) -> Demand:
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize(verb, user, demand)
        extension = demand.extensions.select_for_update().get(status=Extension.Status.PENDING)
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REJECTED
        extension.decided_by, extension.decided_at = user, _now()
        extension.save(update_fields=["status", "decided_by", "decided_at"])
        old_due = demand.resolve_due
        if approve:
            demand.extension_days += extension.days
        _save(demand, ["extension_days"])
        _log(demand, user, verb, demand.state, note.strip(),
             {"days": extension.days, "old_resolve_due": old_due.isoformat(),
              "resolve_due": demand.resolve_due.isoformat()})
    return demand


def approve_extension(user, demand, *, note: str = "", version: int | None = None) -> Demand:
    """批准延期: move the resolution deadline by the requested working days."""
    return _decide_extension(user, demand, "approve_extension", True, note, version)


def reject_extension(user, demand, *, note: str = "", version: int | None = None) -> Demand:
    """驳回延期: the deadline stays."""
    if not (note or "").strip():
        raise DomainError("请填写驳回理由。")
    return _decide_extension(user, demand, "reject_extension", False, note, version)


def escalate_demand(user, demand, *, reason: str, version: int | None = None) -> Demand:
    """提级: unit → joint office consultation → district leaders."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("escalate", user, demand)
        reason = _required(reason, "提级理由", 1000)
        old = demand.get_tier_display()
        demand.tier += 1
        _save(demand, ["tier"], recompute=False)
        _log(demand, user, "escalate", demand.state, reason, {"from": old, "to": demand.get_tier_display()})
    return demand


def mark_long_term(user, demand, *, reason: str, version: int | None = None) -> Demand:
    """转区级研究推进: a problem the district keeps working on beyond the month."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("mark_long_term", user, demand)
        reason = _required(reason, "研究推进说明", 2000)
        from_state = demand.state
        demand.state, demand.outcome = State.LONG_TERM, Outcome.LONG_TERM
        _save(demand, ["state", "outcome"])
        _log(demand, user, "mark_long_term", from_state, reason)
        from qinqing.cooperation.services import start_review

        start_review(user, demand)  # the review date by which the lead unit owes its first progress entry
    return demand


def transfer_to_city(user, demand, *, reason: str, version: int | None = None) -> Demand:
    """移送市级: the district cannot solve it within its powers. One way with the hand-offs between levels: the
    demand is handed to the level above (qinqing.handoffs.services.hand_off_up), which works on its own linked
    copy with its own clock and sends its reply back here; both ledgers count it once (移出 / 移入)."""
    from qinqing.handoffs.services import hand_off_up

    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("transfer", user, demand)
        return hand_off_up(user, demand, reason=reason).source


REPLY_OUTCOMES = (Outcome.SOLVED, Outcome.EXPLAINED, Outcome.UNSOLVABLE)


def reply_demand(user, demand, *, reply: str, outcome: str, version: int | None = None) -> Demand:
    """正式答复: the lead unit's formal answer, with the outcome."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("reply", user, demand)
        demand.reply = _required(reply, "答复内容", 5000)
        if outcome not in REPLY_OUTCOMES:
            raise DomainError("请选择办理结果：已解决、已解释说明或无法解决。")
        from_state = demand.state
        now = _now()
        demand.outcome = outcome
        demand.state = State.REPLIED
        demand.replied_at = now
        if demand.path_at is None:
            demand.path_at = now
        demand.evaluation, demand.evaluation_comment, demand.evaluated_at = "", "", None
        _save(demand, ["reply", "outcome", "state", "replied_at", "path_at", "evaluation",
                       "evaluation_comment", "evaluated_at"])
        _log(demand, user, "reply", from_state, demand.reply, {"outcome": demand.get_outcome_display()})
        from qinqing.textmodel.replies import check_reply

        check_reply(user, demand, demand.reply, sent=True)  # the reply's quality, for the unit assessment
        # 并单: each enterprise whose demand was merged into this one gets the same reply on its own demand
        # (told as any reply, and rated there); the duplicate stays merged, out of every count.
        for duplicate in Demand.objects.select_for_update().filter(duplicate_of=demand, state=State.MERGED):
            duplicate.reply, duplicate.outcome, duplicate.replied_at = demand.reply, demand.outcome, now
            duplicate.evaluation, duplicate.evaluation_comment, duplicate.evaluated_at = "", "", None
            _save(duplicate, ["reply", "outcome", "replied_at", "evaluation", "evaluation_comment", "evaluated_at"],
                  recompute=False)
            _log(duplicate, user, "reply", State.MERGED, demand.reply,
                 {"outcome": demand.get_outcome_display(), "via": demand.number})
        from qinqing.handoffs.services import return_reply

        return_reply(user, demand)  # a demand handed over from another level: the reply goes back there
    return demand


def evaluate_demand(user, demand, *, evaluation: str, comment: str = "", version: int | None = None) -> Demand:
    """评价: the enterprise rates the reply, or staff record a callback (回访) on its behalf."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("evaluate", user, demand)
        if evaluation not in Evaluation.values:
            raise DomainError("请选择评价：满意、基本满意或不满意。")
        comment = clean_text(comment or "").strip()
        if evaluation == Evaluation.UNSATISFIED and not comment:
            raise DomainError("选择“不满意”时请说明原因，便于重新办理。")
        by_callback = demand.enterprise_id is None or user.enterprise_id != demand.enterprise_id
        from_state = demand.state
        demand.evaluation, demand.evaluation_comment = evaluation, comment[:2000]
        demand.evaluation_by_callback = by_callback
        demand.evaluated_at = _now()
        if from_state != State.MERGED:  # a merged duplicate is rated but stays merged (verbs._merged_and_replied)
            demand.state = State.EVALUATED
        _save(demand, ["evaluation", "evaluation_comment", "evaluation_by_callback", "evaluated_at", "state"])
        _log(demand, user, "evaluate", from_state, comment,
             {"evaluation": demand.get_evaluation_display(), "callback": by_callback})
    return demand


def reopen_demand(user, demand, *, reason: str, version: int | None = None) -> Demand:
    """重办: an unsatisfied demand goes back to the lead unit with a fresh resolution clock."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("reopen", user, demand)
        reason = _required(reason, "重办原因", 2000)
        from_state = demand.state
        demand.state = State.REOPENED
        demand.reopened_at = _now()
        demand.reopen_count += 1
        demand.extension_days = 0
        demand.outcome = ""
        _save(demand, ["state", "reopened_at", "reopen_count", "extension_days", "outcome"])
        _log(demand, user, "reopen", from_state, reason, {"resolve_due": demand.resolve_due.isoformat()})
    return demand


def close_demand(user, demand, *, note: str = "", version: int | None = None) -> Demand:
    """销号: only after a formal reply and an evaluation or callback that is not unsatisfied."""
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("close", user, demand)
        if not demand.reply or not demand.evaluation:
            raise IllegalTransition("销号前须有正式答复和企业评价（或回访）。")
        from_state = demand.state
        demand.state = State.CLOSED
        demand.closed_at = _now()
        _save(demand, ["state", "closed_at"])
        _log(demand, user, "close", from_state, note.strip())
    return demand


def close_on_the_spot(user, demand, *, solution: str, version: int | None = None) -> Demand:
    """现场解决: a problem raised face to face and solved there is closed at once, its solution the reply.

    It still counts as a received demand (seed 000 counts problems solved on the spot among those
    collected). No 1231 clock runs for it, and there is nothing left for the enterprise to rate.
    """
    with transaction.atomic():
        demand = _lock(user, demand, version)
        _authorize("settle", user, demand)
        from_state = demand.state
        now = _now()
        demand.reply = _required(solution, "现场解决情况", 5000)
        demand.outcome = Outcome.SOLVED
        demand.state = State.CLOSED
        demand.contacted_at = demand.contacted_at or now
        demand.path_at = demand.path_at or now
        demand.replied_at = demand.closed_at = now
        _save(demand, ["reply", "outcome", "state", "contacted_at", "path_at", "replied_at", "closed_at"])
        _log(demand, user, "settle", from_state, demand.reply, {"outcome": demand.get_outcome_display()})
    return demand


def _merge_target(user, into) -> Demand | None:
    """The demand named by `into` (instance, id or number) if the user may see it."""
    visible = Demand.objects.visible_to(user)
    if isinstance(into, Demand):
        return visible.filter(pk=into.pk).first()
    if isinstance(into, int) or (str(into).strip().isascii() and str(into).strip().isdigit()):
        return visible.filter(pk=int(into)).first()
    return visible.filter(number=str(into).strip().upper()).first()


def merge_demand(user, demand, *, into, note: str = "", version: int | None = None) -> Demand:
    """并单: a duplicate of an open demand is merged into it and no longer counted on its own.

    Both rows are locked, in id order, before either is read: locking only the duplicate let two merges
    of A into B and of B into A at once each lock one row and wait for the other (PostgreSQL aborted one
    with a deadlock, a server error), and let a merge land in a target closed in the meantime.
    """
    with transaction.atomic():
        first_look = _merge_target(user, into)
        pk = demand.pk if isinstance(demand, Demand) else demand
        if first_look is not None and str(pk).isascii() and str(pk).isdigit():
            list(Demand.objects.select_for_update().filter(pk__in=[first_look.pk, int(pk)]).order_by("pk")
                 .values_list("pk", flat=True))
        demand = _lock(user, demand, version)
        _authorize("merge", user, demand)
        target = _merge_target(user, into) if first_look is not None else None  # read again, under the lock
        if target is None:
            raise DomainError("要并入的诉求不存在或您无权查看。")
        if target.pk == demand.pk:
            raise DomainError("不能并入自身。")
        if target.state not in OPEN_STATES and target.state not in (State.LONG_TERM,):
            raise DomainError(f"目标诉求{target.number}已{target.get_state_display()}，只能并入未办结的诉求。")
        from_state = demand.state
        demand.duplicate_of = target
        demand.state = State.MERGED
        _save(demand, ["duplicate_of", "state"])
        _log(demand, user, "merge", from_state, note.strip(), {"into": target.number})
        _log(target, user, "merge", target.state, f"{demand.number} 作为重复诉求并入本件",
             {"merged": demand.number}, internal=True)
    return demand


# ---------------------------------------------------------------- the overdue sweep

def urge_overdue(today: dt.date | None = None) -> int:
    """催办: one urging per demand, overdue stage and deadline; safe to run any number of times.

    The unique (demand, stage, due) constraint makes repeats no-ops (ON CONFLICT DO NOTHING), which
    also spares PostgreSQL an anti-join it plans badly on a freshly filled table. Runs as set-based
    statements (one on PostgreSQL, two on SQLite), so that catching up after days of downtime costs
    the same as a normal run and two workers never issue the same urging twice. A worker killed during
    the sweep leaves nothing (one transaction); one killed before the sweep's notifications are written
    leaves its entries `awaiting_delivery`, which the catch-up delivers by sweep, once.
    """
    today = today or clock.today()
    sweep = uuid.uuid4().hex
    now = _now()
    demand_t, urging_t, event_t = (Demand._meta.db_table, "demands_urging", DemandEvent._meta.db_table)
    labels = dict(Stage.choices)
    db_now = connection.ops.adapt_datetimefield_value(now)  # stored exactly as the ORM stores it
    case = " ".join(f"WHEN '{k}' THEN '{v}环节已超期，请抓紧办理'" for k, v in labels.items())
    overdue = f"SELECT id, current_stage, next_due, lead_unit_id, state FROM {demand_t} WHERE next_due < %s"  # noqa: S608
    issue = f"""INSERT INTO {urging_t} (demand_id, stage, due, unit_id, sweep, created_at)
                SELECT d.id, d.current_stage, d.next_due, d.lead_unit_id, %s, %s FROM :overdue d WHERE true
                ON CONFLICT DO NOTHING"""  # noqa: S608 - table names are ours, values are parameters
    log = f"""INSERT INTO {event_t} (demand_id, actor_id, verb, from_state, to_state, note, data, internal,
                                   created_at, awaiting_delivery)
              SELECT u.demand_id, NULL, 'urge', d.state, d.state, CASE u.stage {case} END, '{{}}', %s, %s, %s
              FROM :urgings u JOIN :overdue d ON d.id = u.demand_id"""  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the overdue rows are read once, and the timeline is written from the urgings
            # just inserted joined to those rows, rather than found again by sweep id or demand id.
            sql = (f"WITH overdue AS MATERIALIZED ({overdue}), "  # noqa: S608
                   f"issued AS ({issue.replace(':overdue', 'overdue')} RETURNING demand_id, stage), "
                   f"logged AS ({log.replace(':urgings', 'issued').replace(':overdue', 'overdue')} RETURNING 1) "
                   "SELECT count(*) FROM logged")
            cursor.execute("SET LOCAL jit = off")  # compiling the plan cost more than running it
            cursor.execute(sql, [today, sweep, db_now, False, db_now, awaits_delivery()])
            created = cursor.fetchone()[0]
        else:
            cursor.execute(issue.replace(":overdue", f"({overdue})"), [sweep, db_now, today])
            created = cursor.rowcount
            if created:
                just_issued = f"(SELECT * FROM {urging_t} WHERE sweep = %s)"  # noqa: S608
                cursor.execute(log.replace(":urgings", just_issued).replace(":overdue", demand_t),
                               [False, db_now, awaits_delivery(), sweep])
    if created and not _quiet.get():  # a demo or history load urges without notifying
        from qinqing.demands.tasks import deliver_sweep

        transaction.on_commit(lambda: deliver_sweep(sweep))
    return created


def verb_label(verb: str) -> str:
    return VERB_LABELS.get(verb, verb)
