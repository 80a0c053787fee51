"""manage.py load_registry_reference — (re)load GB/T 4754, GB/T 2260, size and 四上 rules, default tags.

Migration 0003 already loads them; this adds what is missing (say, after an administrator deleted a row)
and never overwrites edits.
"""

from django.core.management.base import BaseCommand

from qinqing.enterprises import models
from qinqing.enterprises.reference import load_all


class Command(BaseCommand):
    help = "载入企业库参考数据（行业分类、行政区划、规模与四上标准、默认标签），只补缺不覆盖。"

    def handle(self, *args, **options):
        counts = load_all({name: getattr(models, name)
                           for name in ("IndustryCode", "Division", "SizeRule", "FourAboveRule", "Tag")})
        self.stdout.write("；".join(f"{label}新增{n}条" for label, n in counts.items()))
