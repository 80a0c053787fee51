"""manage.py import_enterprises FILE.xlsx [--partial] [--accept-renames] [--user USERNAME] [--errors OUT.xlsx]

Checks every row first; writes all rows in one transaction, or none (unless --partial: the valid rows
only). When rows have errors, an error workbook marking each bad cell is written next to the file.
A row that renames an existing enterprise or moves it to another place is written only with
--accept-renames; without it such rows are skipped and listed, as on the upload page.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qinqing.accounts.models import User
from qinqing.demands.errors import DomainError
from qinqing.enterprises import services
from qinqing.enterprises.importer import Importer


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入企业名单：先逐行校验，全部正确才写入（--partial 只导入正确的行）。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--partial", action="store_true", help="跳过错误行，只导入正确的行")
        parser.add_argument("--accept-renames", action="store_true",
                            help="接受已登记企业的更名/迁址（不加此项时这些行被跳过并列出）")
        parser.add_argument("--user", help="以该用户的身份和权限导入（默认：系统，不限范围）")
        parser.add_argument("--errors", type=Path, help="错误标注文件的路径（默认：FILE 同目录下 *_错误标注.xlsx）")

    def handle(self, *args, file: Path, partial: bool, user: str | None, errors: Path | None,
               accept_renames: bool = False, **options):
        if not file.exists():
            raise CommandError(f"找不到文件：{file}")
        actor = None
        if user:
            actor = User.objects.select_related("jurisdiction").filter(username=user).first()
            if actor is None:
                raise CommandError(f"没有用户名为“{user}”的用户。")
        started = time.perf_counter()

        def progress(stage, done, total):
            if options["verbosity"] > 1:
                self.stdout.write(f"  {'校验' if stage == 'check' else '写入'} {done}/{total}")

        importer = Importer(actor, file, partial=partial, progress=progress)
        try:
            importer.check()
        except DomainError as exc:
            raise CommandError(exc.message) from None
        report = importer.report
        for warning in report.warnings:
            self.stderr.write(warning)
        if not report.ok:
            target = errors or file.with_name(f"{file.stem}_错误标注.xlsx")
            importer.write_error_workbook(target)
            for error in report.errors[:20]:
                self.stderr.write(f"  第{error.row}行 {error.header}：{error.message}")
            if report.error_count > 20:
                self.stderr.write(f"  …… 共{report.error_count}处错误")
            self.stderr.write(f"错误标注文件：{target}")
        try:
            report = services.import_enterprises(actor, file, partial=partial, importer=importer,
                                                 accept_moves=accept_renames)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for change in report.changes:
            if change["moves"] and change["row"] in report.skipped_rows:
                moves = "；".join(f"{label}：{old} → {new}" for label, old, new in change["changes"])
                self.stderr.write(f"  第{change['row']}行 {change['name']} 未导入（{moves}）")
        if report.skipped:
            self.stderr.write(f"{report.skipped}行更名或迁址已跳过：核对无误后加 --accept-renames 重新导入。")
        self.stdout.write(self.style.SUCCESS(f"{report.summary()}用时{time.perf_counter() - started:.1f}秒。"))
