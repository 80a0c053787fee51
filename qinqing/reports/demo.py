"""The demo's supervision and statistics: a few 督办单 on today's overdue demands, the last circulars
issued as the background worker would have, and the dashboard's rollup built. Called by seed_demo."""

from qinqing.accounts.models import Role
from qinqing.demands.models import OPEN_STATES, Demand
from qinqing.lib import clock
from qinqing.supervision import services as supervision

from . import rollup
from .circulars import period_for
from .models import CircularKind
from .services import issue_circular

REQUIREMENT = ("该诉求已超过{stage}期限，请你单位于反馈期限前书面说明办理进展、存在困难和预计办结时间，"
               "并抓紧推动解决。")


def build(org, log=print) -> None:
    today = clock.today()
    overdue = (Demand.objects.filter(jurisdiction__path__startswith=org.district.path, state__in=OPEN_STATES,
                                     next_due__lt=today, lead_unit__isnull=False)
               .select_related("lead_unit").order_by("next_due", "id")[:3])
    notices = [supervision.issue_notice(org.supervisor, d, requirement=REQUIREMENT.format(
        stage=d.get_current_stage_display())) for d in overdue]
    if notices:
        first = notices[0]
        handler = first.unit.members.filter(role_grants__role__in=[Role.HANDLER, Role.UNIT_HEAD]).first()
        if handler is not None:
            supervision.answer_notice(handler, first, answer="已安排专人与企业对接，预计五个工作日内办结，届时书面答复企业。")
    for kind in (CircularKind.WEEKLY, CircularKind.HALF_MONTHLY, CircularKind.MONTHLY):
        period = period_for(kind, today)
        issue_circular(None, kind=kind, jurisdiction=org.district, start=period.start, end=period.end)
    rollup.rebuild()
    log(f"督办单{len(notices)}份、通报3份已生成，统计汇总已建立")
