import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qinqing.demands.errors import DomainError
from qinqing.workdays.calendar import get_calendar, invalidate
from qinqing.workdays.services import import_workdays


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期“{value}”应为 YYYY-MM-DD 格式。") from exc


class Command(BaseCommand):
    help = "工作日历：import 导入节假日/调休，add 计算第N个工作日，show 列出某年的非常规日期。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p_import = sub.add_parser("import", help="导入 CSV（列 date,kind；kind 为 holiday 或 workday）")
        p_import.add_argument("file")
        p_add = sub.add_parser("add", help="以给定日期为第1个工作日（非工作日则顺延），求第N个工作日")
        p_add.add_argument("date")
        p_add.add_argument("n", type=int)
        p_show = sub.add_parser("show", help="列出某年的节假日与调休上班日")
        p_show.add_argument("year", type=int)

    def handle(self, *args, action, **opts):
        if action == "import":
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"找不到文件：{path}")
            try:
                change = import_workdays(path.read_text(encoding="utf-8-sig"))
            except (DomainError, UnicodeDecodeError) as exc:
                raise CommandError(str(exc)) from exc
            invalidate()
            self.stdout.write(f"已导入 {change.saved} 个日期。")
            if change.message:
                self.stdout.write(change.message)
        elif action == "add":
            if opts["n"] < 1:
                raise CommandError("N 须为正整数。")
            cal = get_calendar()
            start = _date(opts["date"])
            result = cal.nth_workday(start, opts["n"])
            for year in sorted({start.year, result.year}):
                if not cal.is_known_year(year):
                    self.stderr.write(f"注意：{year}年的节假日安排尚未载入，按周一至周五计算。")
            self.stdout.write(result.isoformat())
        else:
            cal = get_calendar()
            year = opts["year"]
            if not cal.is_known_year(year):
                self.stdout.write(f"注意：{year}年的节假日安排尚未载入，按周一至周五计算。")
            labels = {"holiday": "放假", "workday": "调休上班"}
            weekdays = "一二三四五六日"
            for day, kind, source in cal.non_standard_days(year):
                self.stdout.write(f"{day.isoformat()} 星期{weekdays[day.weekday()]} {labels[kind]} （{source}）")
