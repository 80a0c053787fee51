"""/api/v1/handoffs: hand a demand to another level, and pause or resume its clock.

Mounted by qinqing/api/api.py with `api.add_router("/handoffs", router)`. Every change goes through
qinqing.handoffs.services; a demand the caller may not see is a 404. The creating calls (a hand-off, a
pause request) take an `Idempotency-Key`.
"""

from ninja import Field, Router, Schema, Status

from qinqing.api.idempotency import idempotent
from qinqing.api.schemas import Error, ValidationErrorOut, choice, demand_ref, text

from . import services
from .models import HandOff, Pause

router = Router(tags=["层级移交与挂起"])
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: ValidationErrorOut}


class HandOffIn(Schema):
    to_jurisdiction: str = Field(description="接收层级：行政区划编号或区划代码（上级，或本级以下的区县）",
                                 **text(20, "440300"))
    reason: str = Field(description="移交理由，1–2000字", **text(2000, "涉及市级审批权限，区级无法办理"))
    version: int | None = Field(None, description="您看到的诉求版本号；他人已更新时返回 409")


class HandOffOut(Schema):
    id: int
    direction: str = Field(description="up 移送上级 / down 下转下级")
    direction_label: str
    source: str = Field(description="移出的诉求号")
    target: str = Field(description="接收层级新建的诉求号")
    to_jurisdiction: str
    status: str = Field(description="open 办理中 / answered 已答复回传")


class PauseIn(Schema):
    reason: str = Field(description="挂起原因：documents 等待企业补充材料、court 等待司法裁判、higher 等待上级答复、"
                                    "other 其他（须填说明）", **choice(Pause.Reason.values))
    detail: str = Field("", description="说明，至多500字", max_length=500)
    version: int | None = Field(None, description="您看到的诉求版本号；他人已更新时返回 409")


class DecisionIn(Schema):
    note: str = Field("", description="审批意见或说明，至多500字（驳回时必填）", max_length=500)
    version: int | None = Field(None, description="您看到的诉求版本号；他人已更新时返回 409")


class PauseOut(Schema):
    id: int
    demand: str = Field(description="诉求号")
    reason: str
    reason_label: str
    status: str = Field(description="pending 待审批 / refused 未批准 / active 挂起中 / ended 已恢复")
    status_label: str
    workdays: int | None = Field(description="挂起的工作日数（恢复后）")


def _handoff_out(h: HandOff) -> dict:
    return {"id": h.pk, "direction": h.direction, "direction_label": h.get_direction_display(),
            "source": h.source.number, "target": h.target.number, "to_jurisdiction": h.to_jurisdiction.name,
            "status": h.status}


def _pause_out(p: Pause, number: str) -> dict:
    return {"id": p.pk, "demand": number, "reason": p.reason, "reason_label": p.get_reason_display(),
            "status": p.status, "status_label": p.get_status_display(), "workdays": p.workdays}


@router.post("/demands/{ref}/handoff", response={201: HandOffOut, **ERRORS}, summary="移交上级或下级")
@idempotent
def hand_off(request, ref: demand_ref("get"), payload: HandOffIn):
    """调度员将诉求移交上级（移送市级）或下转本级以下的区县：接收层级新建一件关联诉求，按自己的时限办理，答复回传本件。"""
    user = request.auth
    demand = services.find_demand(user, ref)
    handoff = services.hand_off_demand(user, demand, to_jurisdiction=payload.to_jurisdiction.strip(),
                                       reason=payload.reason, version=payload.version)
    return Status(201, _handoff_out(handoff))


@router.post("/demands/{ref}/pause", response={201: PauseOut, **ERRORS}, summary="申请挂起")
@idempotent
def request_pause(request, ref: demand_ref("get"), payload: PauseIn):
    """主办单位申请挂起（暂停计时），由调度员审批。"""
    user = request.auth
    demand = services.find_demand(user, ref)
    pause = services.request_pause(user, demand, reason=payload.reason, detail=payload.detail,
                                   version=payload.version)
    return Status(201, _pause_out(pause, demand.number))


@router.post("/demands/{ref}/pause/approve", response={200: PauseOut, **ERRORS}, summary="批准挂起")
def approve_pause(request, ref: demand_ref("get"), payload: DecisionIn):
    user = request.auth
    demand = services.find_demand(user, ref)
    return _pause_out(services.approve_pause(user, demand, note=payload.note, version=payload.version),
                      demand.number)


@router.post("/demands/{ref}/pause/refuse", response={200: PauseOut, **ERRORS}, summary="驳回挂起")
def refuse_pause(request, ref: demand_ref("get"), payload: DecisionIn):
    user = request.auth
    demand = services.find_demand(user, ref)
    return _pause_out(services.refuse_pause(user, demand, note=payload.note, version=payload.version),
                      demand.number)


@router.post("/demands/{ref}/resume", response={200: PauseOut, **ERRORS}, summary="恢复计时")
def resume(request, ref: demand_ref("get"), payload: DecisionIn):
    """恢复计时：尚未完成的各环节期限按挂起的工作日数顺延。"""
    user = request.auth
    demand = services.find_demand(user, ref)
    return _pause_out(services.resume_demand(user, demand, note=payload.note, version=payload.version),
                      demand.number)
