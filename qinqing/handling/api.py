"""/api/v1: a handler's demands, assigning a demand to a named handler, internal notes (qinqing.handling).

Mounted before the demands router (qinqing/api/api.py), whose catch-all `/demands/{ref}/{verb}` would otherwise
answer these paths. Rows come only through `visible_to`; changes only through qinqing.handling.services.
"""

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from qinqing.api.demands import ERRORS, MAX_LIMIT, VERB_RESPONSES, _demand_pk, _list_queryset, present
from qinqing.api.idempotency import idempotent
from qinqing.api.schemas import DemandPage, VersionedIn, demand_ref, doc, text
from qinqing.demands.models import DemandEvent

from . import services

router = Router(tags=["办理协同"])


class HandlerAssignIn(VersionedIn):
    assignee: str = Field(description="承办人：主办单位在岗承办人的登录名或用户编号",
                          **doc(minLength=1, maxLength=150, examples=["handler"]))
    reason: str = Field("", description="说明；改派（已有承办人）时必填，至多1000字",
                        **doc(maxLength=1000, examples=[""]))


class InternalNoteIn(VersionedIn):
    text: str = Field(description="内部备注，1–2000字，企业看不到；“@姓名”或“@登录名”提及可查看本诉求的工作人员并通知其本人",
                      **text(2000, "请尽快联系企业核实用工需求"))


class InternalNoteOut(Schema):
    id: int
    demand: str = Field(description="诉求号")
    text: str
    mentioned: list[str] = Field(description="被提及并已通知的人")
    created_at: dt.datetime


class MinePage(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="每页条数，至多200", **doc(examples=[20]))
    offset: int = Field(0, ge=0, le=10_000_000, description="跳过的条数", **doc(examples=[0]))


@router.get("/handling/mine", response={200: DemandPage, **ERRORS}, summary="我的诉求")
def my_demands(request, paging: Query[MinePage]):
    """The open demands assigned to the caller as named handler, nearest deadline first; page with `limit` (≤200)
    and `next`, `count` always given (a handler's own work is small)."""
    user, limit, offset = request.auth, paging.limit, paging.offset
    qs = services.my_demands(user)
    rows = list(_list_queryset(user).filter(pk__in=qs.values("pk")).order_by("due_order", "-id")
                [offset:offset + limit + 1])
    has_next = len(rows) > limit
    return {"items": rows[:limit], "next": offset + limit if has_next else None, "count": qs.count()}


@router.post("/demands/{ref}/assign", response=VERB_RESPONSES, summary="指派承办人")
@idempotent
def assign(request, ref: demand_ref("assign"), payload: HandlerAssignIn):
    """The lead unit's head assigns the demand to a named handler of the unit, or reassigns it (reason required)."""
    user, pk = request.auth, _demand_pk(request.auth, ref)
    services.assign_demand(user, pk, assignee=_user_ref(payload.assignee), reason=payload.reason,
                           version=payload.version)
    return present(user, pk)


def _user_ref(value: str):
    """A user id, or a login name resolved to its id (the service checks the person is a handler of the unit)."""
    from qinqing.accounts.models import User

    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return User.objects.filter(username=value).values_list("pk", flat=True).first()


@router.post("/demands/{ref}/notes", response={201: InternalNoteOut, **ERRORS}, summary="写内部备注")
@idempotent
def add_note(request, ref: demand_ref("get"), payload: InternalNoteIn):
    """An internal note on the demand's timeline (never shown to the enterprise); each @mentioned person is told."""
    user, pk = request.auth, _demand_pk(request.auth, ref)
    event: DemandEvent = services.add_note(user, pk, text=payload.text, version=payload.version)
    return Status(201, {"id": event.pk, "demand": event.demand.number, "text": event.note,
                        "mentioned": (event.data or {}).get("mentioned", []),
                        "created_at": event.created_at})

