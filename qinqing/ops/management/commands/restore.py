"""`manage.py restore PATH [--yes]`: replace the database and the files with a backup's, then verify them."""

import sys

from django.core.management.base import BaseCommand, CommandError

from qinqing.demands.errors import DomainError
from qinqing.ops import services


class Command(BaseCommand):
    help = "从备份恢复数据库和上传文件（覆盖现有数据，恢复后逐表核对行数）。请先停止 Web 服务和后台任务。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="manage.py backup 生成的 .tar.gz 文件")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复")

    def handle(self, *args, path, yes=False, **options):
        try:
            manifest = services.read_manifest(path)
            services.check_restorable(manifest)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"将恢复{services.describe(manifest)}。")
        self.stdout.write("当前数据库和上传文件将被这份备份覆盖，备份之后的改动都会丢失。")
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("未确认：请加 --yes 参数，或在终端中运行并输入 yes 确认。")
            if input("确认恢复请输入 yes：").strip().lower() != "yes":
                raise CommandError("已取消，未做任何改动。")
        try:
            services.restore(path)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write("已恢复，逐表行数和文件数与备份一致。")
