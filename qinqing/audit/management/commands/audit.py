"""`manage.py audit verify` checks every audit chain; `manage.py audit seal` chains what is still unsealed."""

import time

from django.core.management.base import BaseCommand, CommandError

from qinqing.audit.chain import chains, seal, verify


class Command(BaseCommand):
    help = "安全审计：verify 校验审计链（先封存新记录），seal 封存新记录。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "seal"])

    def handle(self, *args, action, **options):
        failed = False
        for table in chains():
            started = time.monotonic()
            sealed = seal(table)
            if action == "seal":
                self.stdout.write(f"{table}：封存 {sealed} 条（{time.monotonic() - started:.1f} 秒）")
                continue
            checked, problems = verify(table)
            took = time.monotonic() - started
            if not problems:
                self.stdout.write(f"{table}：审计链完整：{checked} 条（{took:.1f} 秒）")
                continue
            failed = True
            self.stdout.write(f"{table}：发现 {len(problems)} 处问题（{took:.1f} 秒）")
            for problem in problems:
                self.stdout.write(f"  {problem}")
        if failed:
            raise CommandError("审计链校验未通过。", returncode=1)
