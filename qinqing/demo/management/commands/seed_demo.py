"""`python manage.py seed_demo`: load the demo district once (run by `make run` on first start)."""

import time

from django.core.management.base import BaseCommand

from qinqing.demo import logins, seed
from qinqing.demo.figures import DISTRICT_CODE


class Command(BaseCommand):
    help = ("载入演示数据：常州市武进区930家企业、2026年集中走访2200件诉求及当前在办诉求，各角色演示账号。"
            "已载入时不做任何修改。")

    def handle(self, *args, **options):
        if seed.exists():
            self.stdout.write(f"演示数据已存在（区划代码 {DISTRICT_CODE}），未做任何修改。")
        else:
            started = time.monotonic()
            self.stdout.write("正在载入演示数据（约需一分钟）…")
            seed.seed(log=self.stdout.write)
            self.stdout.write(self.style.SUCCESS(f"演示数据已载入，用时 {time.monotonic() - started:.0f} 秒。"))
        self.stdout.write("")
        self.stdout.write("演示账号（所有账号密码相同）：")
        self.stdout.write(logins.table())
