"""The demo's hand-offs between levels and pauses (qinqing.handoffs), played through the services.

The city gets a dispatcher and a bureau of its own (常州市工业和信息化局) so that a hand-off has somewhere to
go: of the district's demands in handling, one was handed to the city, which dispatched, contacted the
enterprise and replied (the reply is back on the district's demand, awaiting the enterprise's rating), and
one waits in the city dispatcher's inbox; the demands the stories sent to the city (移送市级, a hand-off too)
are under study there. Two handlers asked to pause a demand: one approved (the clock
stands still, 已挂起 on every countdown), one waiting for the dispatcher's decision. About a dozen service
calls, with nobody notified (history is written quietly).
"""

import random

from django.contrib.auth.hashers import make_password

from qinqing.accounts.models import Role, RoleGrant, Unit, User
from qinqing.demands import services
from qinqing.demands.models import Demand, Outcome, State
from qinqing.demands.verbs import HANDLING
from qinqing.handoffs import services as handoffs
from qinqing.handoffs.models import HandOff, Pause

from . import names
from .org import PASSWORD

CITY_DISPATCHER = "shi_diaodu"
REASONS_UP = ["企业诉求涉及跨区协调和市级审批权限，区级无法办理，移送市级统筹。",
              "涉及市级专项资金申报口径，需市工信局研究答复。"]
CITY_STUDY = "涉及市级政策口径和跨区统筹，已列入市级研究推进事项，由市工信局牵头定期报告进展。"
CITY_REPLY = ("经市工业和信息化局研究，已将该企业诉求纳入市级协调事项，由市局牵头会同相关部门办理，"
              "并已电话告知企业联系人办理安排。")


def _user(username: str, role: str, pw: str, rng: random.Random, **fields) -> User:
    user = User.objects.create(username=username, password=pw, full_name=names.person(rng),
                               phone=names.mobile(rng), **fields)
    RoleGrant.objects.create(user=user, role=role)
    return user


def build(rng: random.Random, org, step=print) -> None:
    city_unit = Unit.objects.create(name="常州市工业和信息化局", short_name="市工信局", kind=Unit.Kind.DEPARTMENT,
                                    jurisdiction=org.city, phone=names.office_phone(rng))
    pw = make_password(PASSWORD)
    city_dispatcher = _user(CITY_DISPATCHER, Role.DISPATCHER, pw, rng, jurisdiction=org.city)
    city_handler = _user("shi_gxj_cbr", Role.HANDLER, pw, rng, jurisdiction=org.city, unit=city_unit)
    departments = [u.pk for u in org.departments.values()]
    candidates = list(Demand.objects.filter(jurisdiction__path__startswith=org.district.path, state__in=HANDLING,
                                            lead_unit_id__in=departments, enterprise__isnull=False,
                                            reopen_count=0).order_by("pk")[:200])
    if len(candidates) < 4:
        step("层级移交与挂起：在办诉求不足，未生成")
        return
    answered, waiting, paused, pending = rng.sample(candidates, 4)
    dispatcher = org.dispatchers[0]
    with services.notifications_suppressed():
        # The stories' 移送市级 went through the hand-off (demands.services.transfer_to_city), so the city holds
        # a linked copy of each; it put them under study with its bureau, as the district's report says
        # (移送市级研究), rather than leaving them in its dispatcher's inbox since the spring.
        earlier = list(HandOff.objects.filter(status=HandOff.Status.OPEN, target__state=State.RECEIVED)
                       .select_related("target").order_by("pk"))
        for old in earlier:
            services.dispatch_demand(city_dispatcher, old.target, lead_unit=city_unit)
            services.mark_long_term(city_dispatcher, old.target, reason=CITY_STUDY)
        handoff = handoffs.hand_off_demand(dispatcher, answered, to_jurisdiction=org.city, reason=REASONS_UP[0])
        services.dispatch_demand(city_dispatcher, handoff.target, lead_unit=city_unit)
        services.contact_enterprise(city_handler, handoff.target, method="电话")
        services.reply_demand(city_handler, handoff.target, reply=CITY_REPLY, outcome=Outcome.SOLVED)
        handoffs.hand_off_demand(dispatcher, waiting, to_jurisdiction=org.city, reason=REASONS_UP[1])
        handoffs.request_pause(org.handlers[paused.lead_unit_id], paused, reason=Pause.Reason.DOCUMENTS,
                               detail="已书面告知企业补充近三年用地和产值资料")
        handoffs.approve_pause(dispatcher, paused, note="同意，材料到齐后恢复计时")
        handoffs.request_pause(org.handlers[pending.lead_unit_id], pending, reason=Pause.Reason.HIGHER,
                               detail="已请示市级主管部门，等待书面答复")
    step("层级移交与挂起：移送市级2件（1件已答复回传），挂起1件，挂起申请待审批1件")
