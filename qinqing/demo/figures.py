"""Seed 000's district in figures: what the demo's 集中走访 campaign must add up to.

"共走访区内民营企业930家（“四上”企业549家、“四下”存在困难的企业381家）…收集到企业反映的困难和问题
2200件…已办结1606件，区级研究推进585件，移送市级研究9件。" The statistics pages and briefings compute
these back from the data, so the demo has to hit them exactly.
"""

import datetime as dt

from qinqing.enterprises.models import Sector

DISTRICT_CODE = "320412"  # 武进区: also the marker of an existing demo
NEIGHBOUR_CODE = "320411"  # 新北区

# The campaign: two months of visits, working days only.
CAMPAIGN_START = dt.date(2026, 3, 2)
CAMPAIGN_END = dt.date(2026, 4, 30)

ENTERPRISES_BY_SECTOR = {
    Sector.INDUSTRY: 307,
    Sector.CONSTRUCTION: 182,
    Sector.AGRICULTURE: 53,
    Sector.WHOLESALE_RETAIL: 79,
    Sector.HOSPITALITY: 133,
    Sector.TRANSPORT: 22,
    Sector.REAL_ESTATE: 38,
    Sector.SERVICES: 116,
}
# 四上 per sector, adding up to 549. Farms are never 四上 (the statistical 四上 covers industry,
# qualified construction, wholesale/retail/hospitality above quota, property development and
# services above scale); most industrial and property firms are.
FOUR_ABOVE_BY_SECTOR = {
    Sector.INDUSTRY: 230,
    Sector.CONSTRUCTION: 120,
    Sector.AGRICULTURE: 0,
    Sector.WHOLESALE_RETAIL: 48,
    Sector.HOSPITALITY: 46,
    Sector.TRANSPORT: 12,
    Sector.REAL_ESTATE: 34,
    Sector.SERVICES: 59,
}
ENTERPRISES = 930
FOUR_ABOVE = 549
FOUR_BELOW = 381

# The eight Category rows seeded by migration, in their order.
DEMANDS_BY_CATEGORY = {
    "准入难": 110,
    "融资难": 484,
    "降本增效难": 594,
    "政策落地难": 286,
    "引才用工难": 308,
    "创业难": 66,
    "转型升级难": 175,
    "其它": 177,
}
DEMANDS = 2200
CLOSED = 1606
LONG_TERM = 585
TRANSFERRED = 9

NEIGHBOUR_ENTERPRISES = 8

assert sum(ENTERPRISES_BY_SECTOR.values()) == ENTERPRISES
assert sum(FOUR_ABOVE_BY_SECTOR.values()) == FOUR_ABOVE == ENTERPRISES - FOUR_BELOW
assert sum(DEMANDS_BY_CATEGORY.values()) == DEMANDS == CLOSED + LONG_TERM + TRANSFERRED
