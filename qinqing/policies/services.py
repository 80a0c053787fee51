"""Every change to a policy goes through one of these: register, update, set its rule, publish, expire, repeal,
import a list. Each checks who may act, validates everything before writing anything, runs in one transaction,
appends a PolicyEvent and raises DomainError with a Chinese message naming the field.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from qinqing.accounts.models import Jurisdiction, Role
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.lib import clock, uploads
from qinqing.lib.text import clean_text

from . import matching, rules
from .models import AmountKind, BenefitType, Level, Metric, Policy, PolicyAttachment, PolicyEvent, Status

EDITOR_ROLES = (Role.DISPATCHER, Role.ADMIN)  # 营商办 keeps the district's policy library
TEXT_LIMITS = {"title": 200, "issuer": 100, "doc_number": 60, "contact_unit": 100, "contact_phone": 30,
               "original_text": 50000, "interpretation": 10000}
REQUIRED = {"title": "政策名称", "issuer": "发文机关", "level": "层级", "benefit_type": "扶持类型",
            "jurisdiction": "适用区域"}
FIELD_LABELS = {f.name: str(f.verbose_name) for f in Policy._meta.get_fields() if hasattr(f, "verbose_name")}
EDITABLE = ("title", "issuer", "doc_number", "level", "jurisdiction", "published_on", "valid_from", "valid_until",
            "apply_opens", "apply_closes", "no_application", "benefit_type", "amount_kind", "amount_fixed",
            "amount_percent", "amount_metric", "amount_year", "amount_cap", "original_text", "interpretation",
            "contact_unit", "contact_phone")


def may_edit(user, jurisdiction: Jurisdiction | None = None) -> bool:
    """Administrators; dispatchers for policies filed in their own jurisdiction's subtree."""
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser or user.has_role(Role.ADMIN):
        return True
    if not (user.has_role(Role.DISPATCHER) and user.jurisdiction_id):
        return False
    return jurisdiction is None or jurisdiction.path.startswith(user.jurisdiction.path)


def _actor(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _log(policy, user, verb, note="", changes=None) -> PolicyEvent:
    return PolicyEvent.objects.create(policy=policy, actor=_actor(user), verb=verb, note=clean_text(note),
                                      changes=changes or {}, created_at=clock.now())


def _date(value, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise DomainError(f"“{label}”的日期“{value}”无效，请写成 2026-12-03。")


def _money(value, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(f"“{label}”的数值“{value}”不是数字。") from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
        raise DomainError(f"“{label}”应为0到99亿之间的数。")
    return number.quantize(Decimal("0.01"))


def _choice(value, choices, label: str, *, required=True) -> str:
    if value in (None, ""):
        if required:
            raise DomainError(f"请填写“{label}”。")
        return ""
    text = str(value).strip()
    if text in choices.values:
        return text
    by_label = {lab: code for code, lab in choices.choices}
    if text in by_label:
        return by_label[text]
    raise DomainError(f"“{label}”的取值“{text}”无效，应为：{'、'.join(choices.labels)}。")


def clean_fields(data: dict) -> dict:
    """The policy's fields checked and normalised, or DomainError naming the first wrong one."""
    out = {}
    for name, limit in TEXT_LIMITS.items():
        text = clean_text(str(data.get(name) or "")).strip()
        if len(text) > limit:
            raise DomainError(f"“{FIELD_LABELS[name]}”不能超过{limit}个字。")
        out[name] = text
    for name, label in REQUIRED.items():
        if name not in ("level", "benefit_type", "jurisdiction") and not out.get(name):
            raise DomainError(f"请填写“{label}”。")
    out["level"] = _choice(data.get("level"), Level, "层级")
    out["benefit_type"] = _choice(data.get("benefit_type"), BenefitType, "扶持类型")
    place = data.get("jurisdiction")
    if not isinstance(place, Jurisdiction):
        place = Jurisdiction.objects.filter(code=str(place or "").strip()).first() or \
            Jurisdiction.objects.filter(name=str(place or "").strip()).order_by("path").first()
    if place is None:
        raise DomainError(f"“适用区域”的取值“{data.get('jurisdiction') or ''}”不是已登记的区划。")
    out["jurisdiction"] = place
    for name in ("published_on", "valid_from", "valid_until", "apply_opens", "apply_closes"):
        out[name] = _date(data.get(name), FIELD_LABELS[name])
    if out["valid_from"] and out["valid_until"] and out["valid_until"] < out["valid_from"]:
        raise DomainError("“有效期至”早于“有效期起”，请检查有效期。")
    if out["apply_opens"] and out["apply_closes"] and out["apply_closes"] < out["apply_opens"]:
        raise DomainError("“申报截止”早于“申报开始”：申报窗口不能在开始之前关闭。")
    out["no_application"] = str(data.get("no_application") or "").strip() in ("True", "true", "1", "是", "on", "免申即享")
    kind = _choice(data.get("amount_kind") or AmountKind.ACTUAL, AmountKind, "金额规则")
    out["amount_kind"] = kind
    for name in ("amount_fixed", "amount_percent", "amount_cap"):
        out[name] = _money(data.get(name), FIELD_LABELS[name])
    out["amount_metric"] = _choice(data.get("amount_metric"), Metric, "比例基数", required=False)
    year = data.get("amount_year")
    try:
        out["amount_year"] = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        raise DomainError(f"“基数年度”的取值“{year}”不是年份。") from None
    if kind == AmountKind.FIXED and out["amount_fixed"] is None:
        raise DomainError("金额规则为“固定金额”时，请填写“固定金额（万元）”。")
    if kind == AmountKind.PERCENT:
        for name in ("amount_percent", "amount_metric", "amount_year", "amount_cap"):
            if out[name] in (None, ""):
                raise DomainError(f"金额规则为“按年度数据比例（封顶）”时，请填写“{FIELD_LABELS[name]}”。")
        if not Decimal(0) < out["amount_percent"] <= 100:
            raise DomainError("“比例（%）”应大于0且不超过100。")
        if not 2000 <= out["amount_year"] <= 2100:
            raise DomainError(f"“基数年度”的取值“{out['amount_year']}”不是有效年份。")
    if kind != AmountKind.FIXED:
        out["amount_fixed"] = None
    if kind != AmountKind.PERCENT:
        out.update(amount_percent=None, amount_metric="", amount_year=None, amount_cap=None)
    return out


def _check_scope(user, place):
    if not may_edit(user):
        raise PermissionDeniedError("只有营商办或管理员可以维护惠企政策。")
    if not may_edit(user, place):
        raise PermissionDeniedError(f"您只能维护本辖区的政策，不能登记到“{place.name}”。")


def _load(user, policy) -> Policy:
    pk = policy.pk if isinstance(policy, Policy) else policy
    found = (Policy.objects.visible_to(user).select_for_update(of=("self",)).select_related("jurisdiction")
             .filter(pk=pk).first())
    if found is None:
        raise NotFoundError("政策不存在或您无权查看。")
    if not may_edit(user, found.jurisdiction):
        raise PermissionDeniedError("只有本辖区营商办或管理员可以维护该政策。")
    return found


def register_policy(user, data: dict, *, rule_rows: list[dict] | None = None) -> Policy:
    """登记 a policy as a draft (草稿), with its rule when given."""
    fields = clean_fields(data)
    _check_scope(user, fields["jurisdiction"])
    rule = rules.validate(rule_rows) if rule_rows else {}
    with transaction.atomic():
        policy = Policy.objects.create(**fields, rule=rule, rule_text=rules.explain(rule), created_by=_actor(user),
                                       created_at=clock.now(), updated_at=clock.now())
        _log(policy, user, PolicyEvent.Verb.CREATE, policy.title)
    return policy


def _changes(policy, fields: dict) -> dict:
    out = {}
    for name, new in fields.items():
        old = getattr(policy, name)
        if old != new:
            out[name] = [str(old) if old is not None else None, str(new) if new is not None else None]
    return out


def update_policy(user, policy, data: dict) -> Policy:
    """修改 a policy's record (not its status: that is publish/expire/repeal)."""
    fields = clean_fields(data)
    with transaction.atomic():
        policy = _load(user, policy)
        _check_scope(user, fields["jurisdiction"])
        if policy.status == Status.REPEALED:
            raise IllegalTransition("已废止的政策不能再修改。")
        changes = _changes(policy, fields)
        if not changes:
            return policy
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.updated_at = clock.now()
        policy.save(update_fields=[*fields, "updated_at"])
        _log(policy, user, PolicyEvent.Verb.UPDATE, changes=changes)
        if policy.status == Status.PUBLISHED:  # area, validity or amount may have changed the stored matches
            rematch_policy(policy)
    return policy


def set_rule(user, policy, rows: list[dict]) -> Policy:
    """修改适用条件: the rows from the form, validated into the stored tree and explained in Chinese."""
    rule = rules.validate(rows)
    with transaction.atomic():
        policy = _load(user, policy)
        if policy.status == Status.REPEALED:
            raise IllegalTransition("已废止的政策不能再修改适用条件。")
        text = rules.explain(rule)
        if policy.rule == rule:
            return policy
        old = policy.rule_text
        policy.rule, policy.rule_text, policy.updated_at = rule, text, clock.now()
        policy.save(update_fields=["rule", "rule_text", "updated_at"])
        _log(policy, user, PolicyEvent.Verb.RULE, text, changes={"rule_text": [old, text]})
        if policy.status == Status.PUBLISHED:
            rematch_policy(policy)
    return policy


def publish_policy(user, policy) -> Policy:
    """发布: the draft becomes visible to enterprises (while valid)."""
    with transaction.atomic():
        policy = _load(user, policy)
        if policy.status != Status.DRAFT:
            raise IllegalTransition(f"政策当前为“{policy.get_status_display()}”，只有草稿可以发布。")
        if policy.valid_until and policy.valid_until < clock.today():
            raise IllegalTransition(f"政策有效期已于{policy.valid_until:%Y-%m-%d}截止，不能发布。")
        policy.status, policy.updated_at = Status.PUBLISHED, clock.now()
        policy.save(update_fields=["status", "updated_at"])
        _log(policy, user, PolicyEvent.Verb.PUBLISH)
        rematch_policy(policy)  # its eligible list and the enterprises' matches are right the moment it is public
        transaction.on_commit(lambda pk=policy.pk: _queue_push(pk))
    return policy


def rematch_policy(policy, today: dt.date | None = None, *, changed_since=None) -> tuple[int, int]:
    """重新匹配: the policy's stored matches (PolicyMatch) brought in line with its rule and record as of `today`,
    set-based (matching.refresh), in one transaction holding the policy row; `matched_at` says when. A system
    job, not a user's act: the services that change a policy call it inside their own transaction (publish, rule,
    record, expiry), the nightly task for every policy. Returns (rows removed, rows added).

    `changed_since` (the nightly run, with matching.mark_changed's table filled from that moment): only the
    enterprises changed since are re-evaluated, when that is enough — the policy was matched at or after that
    moment, has not been edited since, and its rule does not depend on the day (成立满N年). Otherwise in full."""
    today = today or clock.today()
    pk = policy.pk if isinstance(policy, Policy) else policy
    with transaction.atomic():
        found = Policy.objects.select_for_update().filter(pk=pk).first()
        if found is None:
            return 0, 0
        incremental = (changed_since is not None and found.matched_at is not None
                       and found.matched_at >= changed_since and found.updated_at <= found.matched_at
                       and not matching.ages(found))
        removed, added = matching.refresh(found, today, only_changed=incremental)
        stored = found.status == Status.PUBLISHED and not (found.valid_until and found.valid_until < today)
        stamp = clock.now() if stored else None
        Policy.objects.filter(pk=pk).update(matched_at=stamp)  # not updated_at: the record did not change
        if isinstance(policy, Policy):
            policy.matched_at = stamp
    return removed, added


INCREMENTAL_SHARE = 0.2  # above this share of the registry changed (a yearly import), every policy in full


def rematch_all_policies(today: dt.date | None = None, *, full: bool = False) -> int:
    """The nightly re-match: every published policy, and every policy that still has stored matches (one past
    its validity since yesterday loses them), each in its own transaction. Returns the rows written.

    Incremental unless `full`: the enterprises whose registry row or figures were written since the oldest
    stored policy's last match are collected once (matching.mark_changed), and each policy whose stored rows
    are that recent is re-evaluated on those enterprises only (see rematch_policy). The weekly run is `full`,
    for whatever was written around the services."""
    from django.db.models import Min, Q

    from qinqing.enterprises.models import Enterprise

    today = today or clock.today()
    ids = list(Policy.objects.filter(Q(status=Status.PUBLISHED) | Q(matched_at__isnull=False))
               .order_by("pk").values_list("pk", flat=True))
    since = None
    if not full:
        since = Policy.objects.filter(pk__in=ids, matched_at__isnull=False).aggregate(m=Min("matched_at"))["m"]
    if since is not None and matching.mark_changed(since) > INCREMENTAL_SHARE * Enterprise.objects.count():
        since = None
    written = 0
    try:
        for pk in ids:
            removed, added = rematch_policy(pk, today, changed_since=since)
            written += removed + added
    finally:
        matching.drop_changed()
    return written


def _queue_push(policy_id: int) -> None:
    from .tasks import push_policy  # the tasks import the services' neighbours: import when used

    push_policy(policy_id)


def end_policy(user, policy, *, repeal: bool, reason: str) -> Policy:
    """宣布失效 (expire) or 废止 (repeal) a published policy; it leaves every public list and stays on record."""
    reason = clean_text(reason or "").strip()
    if not reason:
        raise DomainError("请填写失效或废止的原因。")
    if len(reason) > 500:
        raise DomainError("原因不能超过500个字。")
    with transaction.atomic():
        policy = _load(user, policy)
        if policy.status not in (Status.PUBLISHED, Status.EXPIRED) or (policy.status == Status.EXPIRED
                                                                       and not repeal):
            raise IllegalTransition(f"政策当前为“{policy.get_status_display()}”，不能{'废止' if repeal else '宣布失效'}。")
        policy.status = Status.REPEALED if repeal else Status.EXPIRED
        policy.updated_at = clock.now()
        policy.save(update_fields=["status", "updated_at"])
        _log(policy, user, PolicyEvent.Verb.REPEAL if repeal else PolicyEvent.Verb.EXPIRE, reason)
        rematch_policy(policy)  # it leaves every enterprise's list of matches now
    return policy


def import_policies(user, rows: list[dict]) -> list[Policy]:
    """导入 a list of policies (rows keyed by field name, from qinqing.policies.excel) as drafts.

    All or nothing: every row is checked first; one wrong row refuses the whole file with its row number
    and field, and nothing is written."""
    if not may_edit(user):
        raise PermissionDeniedError("只有营商办或管理员可以导入惠企政策。")
    if not rows:
        raise DomainError("文件中没有政策数据。")
    cleaned = []
    for row in rows:
        number = row.pop("_row", None)
        try:
            fields = clean_fields(row)
            _check_scope(user, fields["jurisdiction"])
        except DomainError as exc:
            raise DomainError(f"第{number}行：{exc.message}") from None
        cleaned.append(fields)
    with transaction.atomic():
        now = clock.now()
        policies = Policy.objects.bulk_create([
            Policy(**fields, rule={}, rule_text=rules.explain({}), created_by=_actor(user), created_at=now,
                   updated_at=now) for fields in cleaned])
        if policies[0].pk is None:  # a backend that does not return ids: read them back
            policies = list(Policy.objects.filter(created_at=now, created_by=_actor(user)).order_by("pk"))
        PolicyEvent.objects.bulk_create([PolicyEvent(policy=p, actor=_actor(user), verb=PolicyEvent.Verb.IMPORT,
                                                     created_at=now) for p in policies])
    return policies


ATTACHMENT_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "png", "jpg", "jpeg")
MAX_ATTACHMENTS = 20


def attach_file(user, policy, upload) -> PolicyAttachment:
    """上传附件: the signed document or a form to fill in; its type is read from its bytes."""
    try:
        uploads.check_upload(upload, allowed=ATTACHMENT_TYPES, max_bytes=settings.QINQING_ATTACHMENT_MAX_BYTES)
    except uploads.UploadRefused as exc:
        raise DomainError(exc.message) from None
    name = clean_text(upload.name or "").strip()[-200:]
    with transaction.atomic():
        policy = _load(user, policy)
        if policy.attachments.count() >= MAX_ATTACHMENTS:
            raise DomainError(f"每项政策最多{MAX_ATTACHMENTS}个附件。")
        item = PolicyAttachment(policy=policy, name=name, size=upload.size, uploaded_by=_actor(user),
                                uploaded_at=clock.now())
        item.file.save(name, upload, save=True)
        _log(policy, user, PolicyEvent.Verb.ATTACH, name)
    return item


def set_push_opt_out(user, *, opted_out: bool) -> bool:
    """退订 / 恢复 policy pushes for the user's enterprise (any of its accounts may); it still sees every
    policy on its portal. Returns the new state."""
    from .models import PushOptOut

    if not (user and user.is_authenticated and user.has_role(Role.ENTERPRISE) and user.enterprise_id):
        raise PermissionDeniedError("只有企业账号可以设置政策推送。")
    with transaction.atomic():
        if opted_out:
            PushOptOut.objects.get_or_create(enterprise_id=user.enterprise_id,
                                             defaults={"by": user, "created_at": clock.now()})
        else:
            PushOptOut.objects.filter(enterprise_id=user.enterprise_id).delete()
    return opted_out


QUESTION_KIND = "政策落地难"  # the taxonomy's category (政务环境 · 政策落实 among the environment aspects)


def ask_about_policy(user, policy, content: str):
    """An enterprise's question about a policy it sees: received through receive_demand as a 政策落地难 demand
    (its 1231 clock starts now, like any other) and linked to the policy, in one transaction."""
    from qinqing.demands import services as demand_services
    from qinqing.demands.models import Category, Channel

    from .models import PolicyDemand

    if not (user and user.is_authenticated and user.has_role(Role.ENTERPRISE) and user.enterprise_id):
        raise PermissionDeniedError("只有企业账号可以就政策提问。")
    content = clean_text(content or "").strip()
    if not content:
        raise DomainError("请填写您想咨询或反映的问题。")
    if len(content) > 5000:
        raise DomainError("问题描述不能超过5000个字。")
    pk = policy.pk if isinstance(policy, Policy) else policy
    found = Policy.objects.visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("政策不存在或已失效。")
    kind = Category.objects.filter(name=QUESTION_KIND, active=True).first()
    if kind is None:
        raise DomainError(f"诉求分类中没有启用的“{QUESTION_KIND}”，请联系管理员。")
    title = f"政策咨询：{found.title}"[:120]
    with transaction.atomic():
        demand = demand_services.receive_demand(
            user, channel=Channel.ONLINE, title=title, category=kind,
            content=f"关于政策“{found.title}”{f'（{found.doc_number}）' if found.doc_number else ''}：\n{content}")
        return PolicyDemand.objects.create(policy=found, demand=demand, created_at=clock.now())
