"""The demo's 一公开: the published directory of service specialists and the public figures.

Seed 002 (区政府网站首页专题) publishes, per unit, 首席专员 1人 and 具办专员不少于2人 with their unit, post and
contact: here every handling unit of the district and of the neighbour gets one chief and two doers, with an
office line of the unit's exchange (0519-8xxxxxxx, like the demo's other office phones), never a mobile. Then
the public figures are built once from the played demands, as the worker does every half hour.
"""

import random

from qinqing.accounts.models import Unit
from qinqing.transparency.models import ServiceSpecialist
from qinqing.transparency.services import rebuild_public_figures

from . import names

CHIEF_TITLES = {Unit.Kind.DEPARTMENT: "分管副局长", Unit.Kind.TOWN: "分管副镇长", Unit.Kind.PARK: "管委会副主任",
                Unit.Kind.JOINT_OFFICE: "副主任"}
DOER_TITLES = ("企业服务科科长", "企业服务科科员", "综合科副科长")


def build(rng: random.Random, the_org, step) -> None:
    units = list(Unit.objects.filter(active=True).exclude(kind__in=[Unit.Kind.SUPERVISION, Unit.Kind.CITY])
                 .order_by("pk"))
    rows = []
    for unit in units:
        exchange = unit.phone or names.office_phone(rng)
        area, number = exchange.rsplit("-", 1) if "-" in exchange else ("0519", exchange)
        rows.append(ServiceSpecialist(unit=unit, post=ServiceSpecialist.Post.CHIEF, position=0, office_phone=exchange,
                                      title=CHIEF_TITLES.get(unit.kind, "副主任")))
        for i, title in enumerate(rng.sample(DOER_TITLES, 2), start=1):
            rows.append(ServiceSpecialist(unit=unit, post=ServiceSpecialist.Post.DOER, title=title,
                                          office_phone=f"{area}-{number[:-3]}{rng.randrange(1000):03d}", position=i))
    ServiceSpecialist.objects.bulk_create(rows)
    cells = rebuild_public_figures()
    step(f"一公开：为企服务专员公开名录{len(rows)}条（{len(units)}个单位），公开统计{cells}个单元")
