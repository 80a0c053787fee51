"""/api/v1/textmodel: the reply quality check before a formal reply is sent (qinqing.textmodel.replies).

Mounted by qinqing/api/api.py. The demand is found only through `visible_to` (404 outside the caller's
sight); the advice is given only to a caller who may reply to it now (403 otherwise, 409 in another state).
"""

from ninja import Field, Router, Schema

from qinqing.api.demands import ERRORS, _demand_pk
from qinqing.api.schemas import demand_ref, doc
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Demand
from qinqing.demands.verbs import refusal

from .replies import FLAGS, check_reply

router = Router(tags=["文本智能"])


class ReplyCheckIn(Schema):
    reply: str = Field(description="拟发送的正式答复，1–5000字",
                       **doc(minLength=1, maxLength=5000, examples=["经区人社局协调，已于12月5日组织招聘会……"]))


class FlagOut(Schema):
    code: str = Field(description="提示代码", **doc(enum=list(FLAGS)))
    message: str = Field(description="提示说明")


class ReplyCheckOut(Schema):
    relevance: float = Field(description="答复与诉求文字的相关度（0–1），低于0.05提示未回应诉求", **doc(minimum=0, maximum=1))
    flags: list[FlagOut] = Field(description="提示（仅供参考，不阻止发送）；为空表示未发现问题")
    reused: int = Field(description="此前收到相同答复（去掉数字后）的其他诉求数")
    check_id: int = Field(description="本次检查的记录编号")


@router.post("/demands/{ref}/reply-check", response={200: ReplyCheckOut, **ERRORS}, summary="答复质量检查")
def reply_check(request, ref: demand_ref("reply"), payload: ReplyCheckIn):
    """Advice on a formal reply before it is sent — never a block: whether it addresses the demand and names a
    measure, a time, a responsible unit and a path, and whether it is reused boilerplate. The check is recorded;
    sending is still POST /demands/{ref}/reply."""
    user = request.auth
    demand = (Demand.objects.visible_to(user).select_related("jurisdiction", "enterprise")
              .filter(pk=_demand_pk(user, ref)).first())
    if demand is None:
        raise NotFoundError("诉求不存在或您无权查看。")
    refused = refusal("reply", user, demand)
    if refused is not None:
        raise (IllegalTransition if refused[0] == "state" else PermissionDeniedError)(refused[1])
    text = payload.reply.strip()
    if not text:
        raise DomainError("请填写答复内容。")
    advice, check = check_reply(user, demand, text[:5000])
    return {"relevance": advice.relevance, "flags": [{"code": f, "message": FLAGS[f]} for f in advice.flags],
            "reused": advice.reused, "check_id": check.pk}
