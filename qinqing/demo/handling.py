"""The demo's people on demands (qinqing.handling): named handlers, watchers, internal notes, 常用语.

Written set-based after the demands have been played (a few statements, well under a second): most open demands a
unit holds are assigned by the unit's head to its handler (some are left for the head to assign in the demo), the
supervision office and the district leader follow a few overdue ones, the dispatchers leave internal notes that
mention the handler, and every unit, the district and the whole system keep a few canned replies. Timeline entries
are written quiet (nobody is notified of history) and internal, as the services write them.
"""

import datetime as dt
import random

from qinqing.demands.models import UNIT_STATES, Demand, DemandEvent
from qinqing.handling.models import Assignment, CannedReply, Watch
from qinqing.lib import clock

ASSIGNED_SHARE = 0.8  # the rest is left for the unit heads to assign when they try the demo

# Common reply wordings of the 12345 / 政企服务 practice, with the placeholders the reply form fills in.
SHARED_REPLIES = [
    ("已受理并交办", "{企业名称}：您好！您于{受理日期}反映的问题（编号{诉求编号}）已受理，并已交相关部门办理，"
                   "将于{办结期限}前给您答复。感谢您对我区营商环境工作的支持。"),
    ("政策解释说明", "{企业名称}：您好！关于您反映的问题（编号{诉求编号}），经核实，现将有关政策规定解释说明如下："),
    ("办结答复", "{企业名称}：您好！您反映的问题（编号{诉求编号}）已办理完毕，办理情况如下：（请填写）。"
               "如有疑问，请与我们联系。{今天}"),
]
GLOBAL_REPLIES = [
    ("联系不上企业", "{企业名称}：您好！我们于{今天}多次电话联系贵单位未果，请您看到后回电，以便尽快办理您反映的问题"
                   "（编号{诉求编号}）。"),
    ("需补充材料", "{企业名称}：您好！为办理您反映的问题（编号{诉求编号}），请补充提供相关证明材料，我们将在收到材料后"
                 "继续办理。"),
]
UNIT_REPLIES = [
    ("已上门对接", "{企业名称}：您好！我单位已于{今天}上门对接，了解了贵单位的具体情况，正在协调解决，"
                 "将于{办结期限}前答复。"),
    ("协调会答复", "{企业名称}：您好！针对您反映的问题（编号{诉求编号}），我单位已牵头召开协调会，"
                 "形成意见如下："),
]
NOTE_TEXTS = ["@{name} 企业再次来电催问，请今天内联系企业并反馈进展。", "@{name} 该件已超期，请抓紧办理，必要时申请延期。",
              "@{name} 企业负责人本周在厂，可约时间上门。"]


def build(rng: random.Random, org, step=print) -> None:
    now = clock.now()
    units = [*org.departments.values(), *org.town_units.values()]
    held = list(Demand.objects.filter(state__in=UNIT_STATES, lead_unit__in=units,
                                      jurisdiction__path__startswith=org.district.path)
                .order_by("pk").values("pk", "state", "lead_unit_id", "dispatched_at", "next_due"))
    assignments, events = [], []
    for row in held:
        handler, head = org.handlers.get(row["lead_unit_id"]), org.heads.get(row["lead_unit_id"])
        if handler is None or head is None or rng.random() > ASSIGNED_SHARE:
            continue
        at = min((row["dispatched_at"] or now) + dt.timedelta(hours=2), now)
        assignments.append(Assignment(demand_id=row["pk"], assignee=handler, unit_id=row["lead_unit_id"],
                                      assigned_by=head, assigned_at=at))
        events.append(DemandEvent(demand_id=row["pk"], actor=head, verb="assign", from_state=row["state"],
                                  to_state=row["state"], data={"assignee": handler.display_name,
                                                               "people": {"assignee": handler.pk}},
                                  internal=True, created_at=at))
    Assignment.objects.bulk_create(assignments)

    today = clock.today()
    overdue = [r for r in held if r["next_due"] and r["next_due"] < today]
    watched = rng.sample(overdue, min(6, len(overdue)))
    watches = [Watch(demand_id=r["pk"], user=org.supervisor, created_at=now) for r in watched]
    watches += [Watch(demand_id=r["pk"], user=org.leaders[0], created_at=now) for r in watched[:3]]
    Watch.objects.bulk_create(watches)

    for row in rng.sample(overdue, min(4, len(overdue))):
        handler = org.handlers.get(row["lead_unit_id"])
        if handler is None:
            continue
        text = rng.choice(NOTE_TEXTS).format(name=handler.display_name)
        events.append(DemandEvent(demand_id=row["pk"], actor=org.dispatchers[0], verb="note", from_state=row["state"],
                                  to_state=row["state"], note=text, internal=True, created_at=now,
                                  data={"mentioned": [handler.display_name], "people": {"mentioned": [handler.pk]}}))
    DemandEvent.objects.bulk_create(events)

    replies = [CannedReply(title=t, text=x, jurisdiction=org.district, created_by=org.dispatchers[0], updated_at=now)
               for t, x in SHARED_REPLIES]
    replies += [CannedReply(title=t, text=x, created_by=org.admin, updated_at=now) for t, x in GLOBAL_REPLIES]
    for unit in units:
        head = org.heads.get(unit.pk)
        if head is not None:
            replies += [CannedReply(title=t, text=x, unit=unit, created_by=head, updated_at=now) for t, x in UNIT_REPLIES]
    CannedReply.objects.bulk_create(replies)
    step(f"办理协同：指派承办人{len(assignments)}件，关注{len(watches)}条，常用语{len(replies)}条")
