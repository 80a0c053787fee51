"""`manage.py briefing --from YYYY-MM-DD --to YYYY-MM-DD [--jurisdiction CODE] [--policies]`: print the briefing text
(and, with --policies, the policy sentence of seed 002 from the fulfilment ledger as a second paragraph)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from qinqing.accounts.models import Jurisdiction
from qinqing.reports.briefing import build_briefing


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from None


class Command(BaseCommand):
    help = "按统计期和区划输出走访服务民营企业情况的简报文字（与页面上的简报相同）。"

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="统计开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="统计结束日期 YYYY-MM-DD（含当日）")
        parser.add_argument("--jurisdiction", help="区划代码；不填则为唯一的区县，或最上级区划")
        parser.add_argument("--policies", action="store_true",
                            help="另起一段，写出惠企政策落实情况（兑现台账：已落实N项惠企政策……惠及企业Y户）")

    def handle(self, *args, start, end, jurisdiction=None, policies=False, **options):
        start, end = _date(start), _date(end)
        if start > end:
            raise CommandError("开始日期不能晚于结束日期。")
        if jurisdiction:
            node = Jurisdiction.objects.filter(code=jurisdiction).first()
            if node is None:
                raise CommandError(f"区划代码不存在：{jurisdiction}")
        else:
            districts = Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT)
            node = districts.first() if districts.count() == 1 else Jurisdiction.objects.order_by("path").first()
            if node is None:
                raise CommandError("还没有任何区划。")
        briefing = build_briefing(node, start, end)
        self.stdout.write(briefing.text)
        if policies:
            self.stdout.write(briefing.policy_text)
