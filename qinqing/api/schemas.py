"""Request and response shapes of the JSON API.

Output schemas read model instances directly (ninja resolves attributes and `resolve_*`
methods); dates come out as YYYY-MM-DD and times in Asia/Shanghai, as staff read them.

Input schemas state in the OpenAPI document every constraint the code enforces: the choices of
channels, natures, outcomes and evaluations, the lengths the services allow, the forms of references
(ids, demand numbers, credit codes), dates and ranges. Most are checked by the services (one Chinese
message, whatever the caller: page, API or import), so here they are documentation (`doc`), not a second
validation with another wording; ids are bounded by pydantic too, as a database id cannot be larger.
The `examples` name records of the contract test's fixture database (tests/test_api_contract.py): a
reader can try them, and schemathesis reaches every operation with them.
"""

import datetime as dt
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import WithJsonSchema

from qinqing.demands.models import Channel, Evaluation, Nature, Outcome, Stage, State, Tier
from qinqing.demands.public import sees_whole_timeline
from qinqing.demands.taxonomy import get_taxonomy
from qinqing.lib import clock, privacy


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment) if moment else None


def sees_internal_events(user) -> bool:
    """Staff see the whole timeline; anyone else reads it through qinqing.demands.public (as the portal)."""
    return sees_whole_timeline(user)


# ---------------------------------------------------------------- constraints and examples

# A character that stays after clean_text and strip: the services refuse text made only of blanks and
# control characters ("请填写…"), so a text field needs one of these.
VISIBLE = "[^\\s\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]"
CREDIT_CODE = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"  # GB 32100-2015; the check character too
DEMAND_NUMBER = "QQ[0-9]{4}-[0-9]{6}"
MAX_ID = 2**63 - 1  # a database id (BigAutoField)
# Surrounding blanks are ignored and the number's letters may be lower case; anything else is a 404.
DEMAND_REF = "^\\s*([0-9]{1,18}|[Qq]{2}[0-9]{4}-[0-9]{6})\\s*$"


def doc(**schema: Any) -> dict:
    """JSON Schema keywords for the OpenAPI document only: the service enforces them, with its own message."""
    return {"json_schema_extra": schema}


def text(max_length: int, *examples: str) -> dict:
    """A required text of at most `max_length` characters that is not blank (the services' `_required`)."""
    return doc(minLength=1, maxLength=max_length, pattern=VISIBLE, **({"examples": list(examples)} if examples else {}))


def choice(values, *, nullable: bool = False) -> dict:
    return doc(enum=[*values, None] if nullable else list(values))


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def demand_ref(example: str):
    """The `{ref}` path parameter of one demand: its id or number, with the fixture demand `example`
    (a name of EXAMPLE_DEMANDS) as its example."""
    return Annotated[str, WithJsonSchema({
        "type": "string", "pattern": DEMAND_REF, "description": "诉求编号（id）或诉求号，如 QQ2026-900001",
        "examples": [EXAMPLE_NUMBER[example]]})]


# The contract test's fixture demands (tests/test_api_contract.py), received in this order, each in the state
# its operation needs: "QQ2026-900001" is waiting to be dispatched, and so on. The test starts the year's
# numbers at EXAMPLE_FIRST_NUMBER, far from any fixture's first demands: the document is public, and the
# access matrix would rightly report a number it shows that belongs to a demand of its own world.
EXAMPLE_DEMANDS = (
    "get", "dispatch", "return", "accept", "contact", "plan", "request_extension", "approve_extension",
    "reject_extension", "escalate", "mark_long_term", "transfer", "reply", "evaluate", "reopen", "close",
    "merge", "merge_target", "settle",
    "assign",  # qinqing.handling: dispatched to the bureau, for its head to assign
    # qinqing.cooperation: dispatched with 金融工作局 as co-unit; escalated; escalated with a leader's 批示
    "co_opinion", "instruct", "answer_instruction",
)
EXAMPLE_FIRST_NUMBER = 900001
EXAMPLE_NUMBER = {name: f"QQ2026-{number:06d}"
                  for number, name in enumerate(EXAMPLE_DEMANDS, start=EXAMPLE_FIRST_NUMBER)}
EXAMPLE_LEAD_UNIT = 801  # 南山区工业和信息化局 in the fixture
# A real code (python-stdnum's test data, the last of the list): the contract fixture's own enterprise, which no
# other fixture registers (the access matrix reports any of its world's codes shown to an outsider).
EXAMPLE_CREDIT_CODE = "92340621MA2UK3CE6L"
EXAMPLE_NEW_CREDIT_CODE = "91152201078394644D"  # a real code not yet registered in the fixture


# ---------------------------------------------------------------- errors

class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 not_found、conflict、illegal_transition")


class ValidationErrorOut(Error):
    """422: a request the schema refuses (`validation`), or an Idempotency-Key already used for another request
    (`idempotency_key_reused`, without `errors`)."""

    errors: list[dict] = Field(default_factory=list, description="逐项的原始校验错误（loc、type、msg）；仅 code 为 validation 时给出")


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
    reporter_phone: str = Field(description="反映人电话；列表中及无需完整号码的调用者见到脱敏号码，如 139****5678")
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


class SuggestionOut(Schema):
    """What the text suggests for a demand awaiting dispatch (qinqing.textmodel.suggest)."""

    category: CategoryRef | None = Field(description="建议的类别")
    category_confidence: float | None = Field(description="类别建议的置信度（0–1）", **doc(minimum=0, maximum=1))
    category_source: str = Field(description="model 文本模型，lexicon 管理员维护的关键词",
                                 **doc(enum=["model", "lexicon"]))
    lead_unit: UnitRef | None = Field(description="建议的主办单位")
    lead_unit_confidence: float | None = Field(description="主办单位建议的置信度（0–1）", **doc(minimum=0, maximum=1))
    lead_unit_source: str = Field(description="model 文本模型，lexicon 类别的建议承办单位",
                                  **doc(enum=["model", "lexicon"]))
    words: list[str] = Field(description="促成建议的词语")


class DemandDetail(DemandOut):
    """A demand with what the caller may do next and its timeline."""

    allowed_verbs: list[str] = Field(description="调用者现在可以进行的操作，对应 POST /demands/{id}/{verb}")
    events: list[EventOut]
    suggestion: SuggestionOut | None = Field(
        None, description="待交办且调用者可以交办时：按诉求内容建议的类别和主办单位；其他情况为 null。"
                    "受理（POST）的应答中总为 null，读取该诉求时给出")

    # Both are attached by the router (qinqing.api.demands.present), which knows the caller.
    @staticmethod
    def resolve_allowed_verbs(obj) -> list[str]:
        return getattr(obj, "api_allowed_verbs", [])

    @staticmethod
    def resolve_events(obj) -> list:
        return getattr(obj, "api_events", [])

    @staticmethod
    def resolve_suggestion(obj) -> dict | None:
        return getattr(obj, "api_suggestion", None)


class DemandPage(Schema):
    items: list[DemandOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")
    count: int | None = Field(None, description="仅当请求 count=true 时给出总数")


# ---------------------------------------------------------------- demands in

class LedgerFilters(Schema):
    """The ledger's filters (qinqing.demands.filters), documented here; parsed by the ledger form."""

    q: str | None = Field(None, description="关键词，或诉求号", **doc(maxLength=100, examples=["招聘"]))
    state: list[str] | None = Field(None, description="状态，可重复",
                                    **doc(items={"type": "string", "enum": State.values}))
    group: str | None = Field(None, description="进度：open、done、long_term、transferred",
                              **choice(["", "open", "done", "long_term", "transferred"], nullable=True))
    category: str | None = Field(None, description="类别编号（含其子类）", **doc(pattern="^[0-9]+$"))
    channel: str | None = Field(None, description="来源渠道", **choice(["", *Channel.values], nullable=True))
    unit: str | None = Field(None, description="承办单位编号（主办或协办）", **doc(pattern="^[0-9]+$"))
    jurisdiction: str | None = Field(None, description="属地区划代码（含下级）", **doc(examples=["440305"]))
    overdue: str | None = Field(None, description="超期：any 或环节 dispatch、contact、path、resolve",
                                **choice(["", "any", *Stage.values], nullable=True))
    received_from: str | None = Field(None, description="受理日期自，YYYY-MM-DD", **doc(format="date"))
    received_to: str | None = Field(None, description="受理日期至，YYYY-MM-DD（不早于受理日期自）", **doc(format="date"))
    enterprise: str | None = Field(None, description="企业编号", **doc(pattern="^[0-9]{1,18}$"))
    nature: str | None = Field(None, description="性质：problem 困难问题、opinion 意见建议",
                               **choice(["", *Nature.values], nullable=True))
    env_class: str | None = Field(None, description="营商环境大类编号", **doc(pattern="^[1-9][0-9]{0,17}$"))
    aspect: str | None = Field(None, description="营商环境方面编号", **doc(pattern="^[1-9][0-9]{0,17}$"))


class DemandIn(Schema):
    """受理: a new demand. Without a credit code, give the reporter's name (匿名 for anonymous)."""

    credit_code: str | None = Field(None, description="统一社会信用代码；企业用户可省略（即本企业）",
                                    **doc(pattern=CREDIT_CODE, examples=[EXAMPLE_CREDIT_CODE]))
    channel: str = Field(description="来源渠道：visit、hotline、online、wechat、meeting、seminar、officer、other"
                                     "（企业用户提交的一律按 online，微信除外）", **choice(Channel.values))
    title: str = Field(description="诉求标题，1–120字", **text(120, "技术工人招聘困难"))
    content: str = Field(description="诉求内容，1–5000字",
                         **text(5000, "企业扩产后缺少数控机床操作工约30人，希望人社部门协助对接职业院校。"))
    category: int | str | None = Field(None, description="类别编号或名称；省略时按内容推荐", **doc(examples=["引才用工难"]))
    received_at: dt.datetime | None = Field(None, description="受理时间，ISO 8601；不带时区按北京时间；"
                                                              "不晚于当前时间，不早于2004年")
    reporter_name: str = Field("", description="反映人姓名；无企业时必填（匿名可填“匿名”）；超过40字截断")
    reporter_phone: str = Field("", description="反映人电话；超过30字截断")
    nature: str = Field("problem", description="性质：problem 困难问题（默认）、opinion 意见建议", **choice(Nature.values))


class DemandBatchIn(Schema):
    """批量受理: up to 200 demands, received all together or not at all."""

    items: list[DemandIn] = Field(min_length=1, max_length=200, description="诉求列表，1–200件；同一批中的信用代码各自校验")


class DemandBatchOut(Schema):
    items: list[DemandOut] = Field(description="已受理的诉求，顺序与提交时相同")


class VersionedIn(Schema):
    version: int | None = Field(None, description="您看到的诉求版本号；他人已更新时返回 409")


class DispatchIn(VersionedIn):
    lead_unit: Id = Field(description="主办单位编号：本区启用的承办单位（不含督查室）", examples=[EXAMPLE_LEAD_UNIT])
    co_units: list[Id] = Field(default_factory=list, description="协办单位编号，不含主办单位")
    category: int | str | None = Field(None, description="确认或更正类别：编号或名称", **doc(examples=["引才用工难"]))
    aspect: Id | None = Field(None, description="确认或更正营商环境方面编号；省略时保持不变（更正类别时随类别建议）")
    nature: str | None = Field(None, description="确认或更正性质：problem 或 opinion；省略时保持不变",
                               **choice(Nature.values, nullable=True))
    note: str = Field("", examples=["请人社局牵头对接职业院校"])


class ReasonIn(VersionedIn):
    reason: str = Field(description="理由，1–1000字", **text(1000, "非本单位职责"))


class LongReasonIn(VersionedIn):
    reason: str = Field(description="理由或说明，1–2000字", **text(2000, "需区级统筹研究"))


class NoteIn(VersionedIn):
    note: str = Field("", examples=["已签收"])


class RejectIn(VersionedIn):
    note: str = Field(description="驳回理由，必填", **doc(pattern=VISIBLE, examples=["延期理由不充分"]))


class ContactIn(VersionedIn):
    method: str = Field(description="联系方式，如 电话、上门；1–40字", **text(40, "电话"))
    contacted_at: dt.datetime | None = Field(None, description="联系时间：受理之后、当前时间之前；省略为现在")
    note: str = ""


class PlanIn(VersionedIn):
    path: str = Field(description="解决路径，1–3000字", **text(3000, "联系两所职业院校，12月中旬举办专场招聘会"))


class ExtensionIn(VersionedIn):
    days: int = Field(description="申请延期的工作日数，1–60", **doc(minimum=1, maximum=60, examples=[5]))
    reason: str = Field(description="延期理由，1–1000字", **text(1000, "院校排期"))


class ReplyIn(VersionedIn):
    reply: str = Field(description="答复内容，1–5000字", **text(5000, "已对接两所院校，招聘会定于12月15日举办"))
    outcome: str = Field(description="solved 已解决、explained 已解释说明 或 unsolvable 无法解决",
                         **choice([Outcome.SOLVED, Outcome.EXPLAINED, Outcome.UNSOLVABLE]))


class SettleIn(VersionedIn):
    solution: str = Field(description="现场解决情况，作为答复；1–5000字", **text(5000, "现场讲解了申报流程，企业已知悉"))


class EvaluateIn(VersionedIn):
    evaluation: str = Field(description="satisfied 满意、basic 基本满意 或 unsatisfied 不满意（须说明原因）",
                            **choice(Evaluation.values))
    comment: str = Field("", description="评价说明；不满意时必填；超过2000字截断", examples=["很及时"])


class MergeIn(VersionedIn):
    into: int | str = Field(description="并入的诉求（未办结）：编号（id）或诉求号，如 QQ2026-900001",
                            **doc(anyOf=[{"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                         {"type": "string", "pattern": DEMAND_REF}],
                                  examples=[EXAMPLE_NUMBER["merge_target"]]))
    note: str = ""
