"""manage.py refresh_enterprise_sizes — recompute every year's size and 四上 status from today's rules."""

from django.core.management.base import BaseCommand

from qinqing.enterprises.services import refresh_classifications


class Command(BaseCommand):
    help = "按当前的规模和四上标准重新测算全部企业。"

    def handle(self, *args, **options):
        changed = refresh_classifications(None)
        self.stdout.write(f"重新测算完成：{changed}家企业的规模或四上状态有变化。")
