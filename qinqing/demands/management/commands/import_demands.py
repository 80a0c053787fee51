"""manage.py import_demands FILE.xlsx --user USERNAME [--channel hotline] [--errors OUT.xlsx]

A historical ledger or a 12345 export sheet: every row is checked first; all rows are written in one
transaction, or none. When rows have errors, the error list (row, column, message) is written next to
the file. Rows whose source number was imported before are skipped, so running it twice writes nothing new.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qinqing.accounts.models import User
from qinqing.demands.errors import DomainError
from qinqing.demands.importer import DemandImporter, import_demands
from qinqing.demands.models import Channel


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入诉求台账或12345工单：先逐行校验，全部正确才写入；已导入过的工单编号跳过。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="以该用户（调度员或管理员）的身份和权限导入")
        parser.add_argument("--channel", default=Channel.HOTLINE, choices=Channel.values,
                            help="表中没有“来源渠道”列时的来源渠道（默认 hotline：12345热线）")
        parser.add_argument("--errors", type=Path, help="错误清单的路径（默认：FILE 同目录下 *_错误清单.xlsx）")

    def handle(self, *args, file: Path, user: str, channel: str, errors: Path | None, **options):
        if not file.exists():
            raise CommandError(f"找不到文件：{file}")
        actor = User.objects.select_related("jurisdiction").filter(username=user).first()
        if actor is None:
            raise CommandError(f"没有用户名为“{user}”的用户。")
        started = time.perf_counter()

        def progress(stage, done, total):
            if options["verbosity"] > 1:
                self.stdout.write(f"  {'校验' if stage == 'check' else '写入'} {done}/{total}")

        try:
            importer = DemandImporter(actor, file, channel=channel, progress=progress)
            importer.check()
        except DomainError as exc:
            raise CommandError(exc.message) from None
        report = importer.report
        if not report.ok:
            target = errors or file.with_name(f"{file.stem}_错误清单.xlsx")
            importer.write_error_workbook(target)
            for error in report.errors[:20]:
                self.stderr.write(f"  第{error.row}行 {error.header}：{error.message}")
            if report.error_count > 20:
                self.stderr.write(f"  …… 共{report.error_count}处错误")
            raise CommandError(f"{report.summary()}未导入任何数据。错误清单：{target}")
        try:
            report = import_demands(actor, file, importer=importer)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{report.summary()}用时{time.perf_counter() - started:.1f}秒。")
