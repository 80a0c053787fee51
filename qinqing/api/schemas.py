"""Request and response shapes of the JSON API.

Output schemas read model instances directly (ninja resolves attributes and `resolve_*`
methods); dates come out as YYYY-MM-DD and times in Asia/Shanghai, as staff read them.
"""

import datetime as dt

from django.utils import timezone
from ninja import Field, Schema

from qinqing.demands.models import Outcome, Stage, State, Tier
from qinqing.demands.public import sees_whole_timeline
from qinqing.demands.taxonomy import get_taxonomy
from qinqing.lib import clock, privacy


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment) if moment else None


def sees_internal_events(user) -> bool:
    """Staff see the whole timeline; anyone else reads it through qinqing.demands.public (as the portal)."""
    return sees_whole_timeline(user)


# ---------------------------------------------------------------- errors

class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 not_found、conflict、illegal_transition")


class ValidationErrorOut(Error):
    errors: list[dict] = Field(description="逐项的原始校验错误（loc、type、msg）")


# ---------------------------------------------------------------- references

class EnterpriseRef(Schema):
    id: int
    name: str
    credit_code: str


class CategoryRef(Schema):
    id: int
    name: str


class AspectRef(Schema):
    id: int
    env_class: str = Field(description="营商环境大类，如 市场环境")
    name: str = Field(description="方面，如 市场准入")


class UnitRef(Schema):
    id: int
    name: str


class JurisdictionRef(Schema):
    code: str
    name: str


# ---------------------------------------------------------------- demands out

class DemandOut(Schema):
    """A demand as it appears in the ledger."""

    id: int
    number: str
    title: str
    content: str
    state: str
    state_label: str
    channel: str
    channel_label: str
    nature: str = Field(description="性质：problem 困难问题、opinion 意见建议")
    nature_label: str
    enterprise: EnterpriseRef | None
    reporter_name: str
    reporter_phone: str
    category: CategoryRef
    aspect: AspectRef | None = Field(description="营商环境方面（受理时按类别建议，交办时确认）")
    jurisdiction: JurisdictionRef
    lead_unit: UnitRef | None
    co_units: list[UnitRef]
    tier: int
    tier_label: str
    outcome: str
    outcome_label: str
    evaluation: str
    evaluation_label: str
    solution_path: str
    reply: str
    received_at: dt.datetime
    dispatch_due: dt.date
    contact_due: dt.date
    path_due: dt.date
    resolve_due: dt.date
    current_stage: str
    current_stage_label: str
    next_due: dt.date | None
    overdue: bool
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_state_label(obj) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_reporter_phone(obj, context) -> str:
        # Masked unless the caller may see it (qinqing.lib.privacy): in a list, the list rule; for one demand,
        # the router's `mark_for_api`.
        return privacy.api_value(obj, "reporter_phone", context)

    @staticmethod
    def resolve_channel_label(obj) -> str:
        return obj.get_channel_display()

    @staticmethod
    def resolve_aspect(obj) -> dict | None:
        # From the cached taxonomy: a list of 200 demands needs no join for it.
        names = get_taxonomy().aspect_names.get(obj.aspect_id)
        return {"id": obj.aspect_id, "env_class": names[0], "name": names[1]} if names else None

    @staticmethod
    def resolve_nature_label(obj) -> str:
        return obj.get_nature_display()

    @staticmethod
    def resolve_co_units(obj) -> list:
        # A demand just received says it has none (api_co_units); otherwise always `.all()`, so that a
        # prefetch serves every row of a list.
        known = getattr(obj, "api_co_units", None)
        return known if known is not None else list(obj.co_units.all())

    @staticmethod
    def resolve_tier_label(obj) -> str:
        return Tier(obj.tier).label if obj.tier in Tier.values else str(obj.tier)

    @staticmethod
    def resolve_outcome_label(obj) -> str:
        return Outcome(obj.outcome).label if obj.outcome else ""

    @staticmethod
    def resolve_evaluation_label(obj) -> str:
        return obj.get_evaluation_display() if obj.evaluation else ""

    @staticmethod
    def resolve_current_stage_label(obj) -> str:
        return Stage(obj.current_stage).label if obj.current_stage else ""

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.next_due is not None and obj.next_due < clock.today()

    @staticmethod
    def resolve_received_at(obj) -> dt.datetime:
        return _local(obj.received_at)

    @staticmethod
    def resolve_updated_at(obj) -> dt.datetime:
        return _local(obj.updated_at)


class EventOut(Schema):
    """One line of the timeline. An enterprise account gets qinqing.demands.public's reading of it: the
    portal's words as `verb_label`, a note only where it was written for the enterprise, no actor, no data."""

    verb: str
    verb_label: str
    actor: str | None
    from_state: str
    from_state_label: str
    to_state: str
    to_state_label: str
    note: str
    data: dict
    created_at: dt.datetime

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None

    @staticmethod
    def resolve_from_state_label(obj) -> str:
        return State(obj.from_state).label if obj.from_state in State.values else obj.from_state

    @staticmethod
    def resolve_to_state_label(obj) -> str:
        return State(obj.to_state).label if obj.to_state in State.values else obj.to_state

    @staticmethod
    def resolve_created_at(obj) -> dt.datetime:
        return _local(obj.created_at)


class DemandDetail(DemandOut):
    """A demand with what the caller may do next and its timeline."""

    allowed_verbs: list[str] = Field(description="调用者现在可以进行的操作，对应 POST /demands/{id}/{verb}")
    events: list[EventOut]

    # Both are attached by the router (qinqing.api.demands.present), which knows the caller.
    @staticmethod
    def resolve_allowed_verbs(obj) -> list[str]:
        return getattr(obj, "api_allowed_verbs", [])

    @staticmethod
    def resolve_events(obj) -> list:
        return getattr(obj, "api_events", [])


class DemandPage(Schema):
    items: list[DemandOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")
    count: int | None = Field(None, description="仅当请求 count=true 时给出总数")


# ---------------------------------------------------------------- demands in

class LedgerFilters(Schema):
    """The ledger's filters (qinqing.demands.filters), documented here; parsed by the ledger form."""

    q: str | None = Field(None, description="关键词")
    state: list[str] | None = Field(None, description="状态，可重复")
    group: str | None = Field(None, description="进度：open、done、long_term、transferred")
    category: str | None = Field(None, description="类别编号（含其子类）")
    channel: str | None = Field(None, description="来源渠道")
    unit: str | None = Field(None, description="承办单位编号（主办或协办）")
    jurisdiction: str | None = Field(None, description="属地区划代码（含下级）")
    overdue: str | None = Field(None, description="超期：any 或环节 dispatch、contact、path、resolve")
    received_from: str | None = Field(None, description="受理日期自，YYYY-MM-DD")
    received_to: str | None = Field(None, description="受理日期至，YYYY-MM-DD")
    enterprise: str | None = Field(None, description="企业编号")
    nature: str | None = Field(None, description="性质：problem 困难问题、opinion 意见建议")
    env_class: str | None = Field(None, description="营商环境大类编号")
    aspect: str | None = Field(None, description="营商环境方面编号")


class DemandIn(Schema):
    """受理: a new demand. Without a credit code, give the reporter's name (匿名 for anonymous)."""

    credit_code: str | None = Field(None, description="统一社会信用代码；企业用户可省略（即本企业）")
    channel: str = Field(description="来源渠道：visit、hotline、online、wechat、meeting、seminar、officer、other")
    title: str
    content: str
    category: int | str | None = Field(None, description="类别编号或名称；省略时按内容推荐")
    received_at: dt.datetime | None = Field(None, description="受理时间，ISO 8601；不带时区按北京时间")
    reporter_name: str = ""
    reporter_phone: str = ""
    nature: str = Field("problem", description="性质：problem 困难问题（默认）、opinion 意见建议")


class DemandBatchIn(Schema):
    """批量受理: up to 200 demands, received all together or not at all."""

    items: list[DemandIn] = Field(min_length=1, max_length=200, description="诉求列表，1–200件")


class DemandBatchOut(Schema):
    items: list[DemandOut] = Field(description="已受理的诉求，顺序与提交时相同")


class VersionedIn(Schema):
    version: int | None = Field(None, description="您看到的诉求版本号；他人已更新时返回 409")


class DispatchIn(VersionedIn):
    lead_unit: int = Field(description="主办单位编号")
    co_units: list[int] = Field(default_factory=list, description="协办单位编号")
    category: int | str | None = Field(None, description="确认或更正类别：编号或名称")
    aspect: int | None = Field(None, description="确认或更正营商环境方面编号；省略时保持不变（更正类别时随类别建议）")
    nature: str | None = Field(None, description="确认或更正性质：problem 或 opinion；省略时保持不变")
    note: str = ""


class ReasonIn(VersionedIn):
    reason: str


class NoteIn(VersionedIn):
    note: str = ""


class ContactIn(VersionedIn):
    method: str = Field(description="联系方式，如 电话、上门")
    contacted_at: dt.datetime | None = None
    note: str = ""


class PlanIn(VersionedIn):
    path: str = Field(description="解决路径")


class ExtensionIn(VersionedIn):
    days: int = Field(description="申请延期的工作日数")
    reason: str


class ReplyIn(VersionedIn):
    reply: str
    outcome: str = Field(description="solved、explained 或 unsolvable")


class SettleIn(VersionedIn):
    solution: str = Field(description="现场解决情况，作为答复")


class EvaluateIn(VersionedIn):
    evaluation: str = Field(description="satisfied、basic 或 unsatisfied")
    comment: str = ""


class MergeIn(VersionedIn):
    into: int | str = Field(description="并入的诉求：编号（id）或诉求号，如 QQ2026-000001")
    note: str = ""
