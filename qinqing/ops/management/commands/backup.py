"""`manage.py backup [PATH]`: the database, the uploaded and generated files and a manifest in one .tar.gz."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from qinqing.demands.errors import DomainError
from qinqing.lib import clock
from qinqing.ops import services


class Command(BaseCommand):
    help = "备份数据库和上传文件（附件、导入、导出、通报）到一个 .tar.gz；运行中的系统无需停机。"

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="备份文件（默认 VAR_DIR/backups/qinqing-<时间>.tar.gz）")

    def handle(self, *args, path=None, **options):
        target = Path(path) if path else (Path(settings.VAR_DIR) / "backups"
                                          / f"qinqing-{clock.localnow():%Y%m%d-%H%M%S}.tar.gz")
        try:
            manifest = services.back_up(target)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"已备份：{target.resolve()}")
        self.stdout.write(services.describe(manifest))
