"""The demo's enterprise registry: seed 000's 930 visited enterprises and a few next door."""

import random

from qinqing.accounts.models import Role, RoleGrant
from qinqing.enterprises.models import Division, Enterprise, Helpers, Sector, Size

from . import names
from .figures import ENTERPRISES_BY_SECTOR, FOUR_ABOVE_BY_SECTOR, NEIGHBOUR_ENTERPRISES
from .industries import TECH_CODES, TRADES
from .org import Org

# How likely an enterprise of a sector sits in a town: farms in the southern towns, hotels by the lake,
# factories in the parks and the old industrial towns.
FARMING_TOWNS = {"雪堰镇", "前黄镇", "礼嘉镇", "嘉泽镇", "湟里镇"}
PARKS = {"武进经济开发区", "高新区", "西太湖生态休闲区"}
LAKESIDE = {"太湖旅游度假区", "雪堰镇", "西太湖生态休闲区"}
HEAD_FOR_SECTOR = {Sector.CONSTRUCTION: "zjj", Sector.REAL_ESTATE: "zjj", Sector.WHOLESALE_RETAIL: "swj",
                   Sector.HOSPITALITY: "swj", Sector.TRANSPORT: "jtj", Sector.SERVICES: "fgj",
                   Sector.INDUSTRY: "gxj", Sector.AGRICULTURE: "fgj"}


def _town_weight(town_name: str, sector: str) -> float:
    weight = 3.0 if town_name == "湖塘镇" else 1.0
    if sector == Sector.AGRICULTURE:
        weight *= 6 if town_name in FARMING_TOWNS else (0.05 if town_name in PARKS else 0.3)
    elif sector == Sector.INDUSTRY:
        weight *= 2.5 if town_name in PARKS else (0.6 if town_name in FARMING_TOWNS else 1.2)
    elif sector == Sector.HOSPITALITY:
        weight *= 3 if town_name in LAKESIDE else 1
    elif sector == Sector.SERVICES:
        weight *= 2 if town_name in PARKS or town_name.endswith("街道") else 0.8
    return weight


def _size(rng: random.Random, four_above: bool) -> str:
    if four_above:
        return rng.choices((Size.LARGE, Size.MEDIUM, Size.SMALL), (5, 33, 62))[0]
    return rng.choices((Size.SMALL, Size.MICRO), (45, 55))[0]


def _tags(rng: random.Random, sector: str, code: str, four_above: bool) -> list[str]:
    tags = []
    tech = code in TECH_CODES
    if sector == Sector.INDUSTRY and four_above:
        if rng.random() < (0.45 if tech else 0.15):
            tags.append("高新技术企业")
        if rng.random() < (0.2 if tech else 0.06):
            tags.append("专精特新")
            if rng.random() < 0.15:
                tags.append("专精特新“小巨人”")
    elif sector == Sector.SERVICES and tech:
        if rng.random() < 0.35:
            tags.append("科技型中小企业")
        if four_above and rng.random() < 0.3:
            tags.append("高新技术企业")
    return tags


def _enterprise(rng, taken, sector, four_above, town, district, divisions) -> Enterprise:
    trade = rng.choices(TRADES[sector], [t.weight for t in TRADES[sector]])[0]
    size = _size(rng, four_above)
    while True:
        large = size == Size.LARGE and sector in (Sector.INDUSTRY, Sector.CONSTRUCTION, Sector.REAL_ESTATE)
        name = names.firm_name(rng, rng.choice(trade.words), large=large)
        if name not in taken:
            taken.add(name)
            break
    while True:
        code = names.credit_code(rng, district.code)
        if code not in taken:
            taken.add(code)
            break
    qualification = ""
    if trade.qualification and four_above:  # only builders with a 资质 count as 四上
        qualification = trade.qualification.format(grade=rng.choices("一二三", (1, 4, 5))[0])
    boss = names.person(rng)
    return Enterprise(name=name, credit_code=code, sector=sector, industry_code=trade.code, jurisdiction=town,
                      division=divisions.get(district.code), size=size, is_four_above=four_above,
                      qualification=qualification, tags=_tags(rng, sector, trade.code, four_above),
                      legal_representative=boss, contact_name=boss if size == Size.MICRO else names.person(rng),
                      contact_phone=names.mobile(rng), address=names.address(rng, district.name, town.name))


def build(rng: random.Random, org: Org) -> list[Enterprise]:
    """Create the district's 930 enterprises and the neighbour's few; return the district's, by town."""
    taken: set[str] = set()
    # The registry's GB/T 2260 rows of both districts (absent if its reference tables are not loaded).
    divisions = {d.code: d for d in Division.objects.filter(code__in=[org.district.code, org.neighbour.code])}
    rows = []
    towns = org.towns
    for sector, count in ENTERPRISES_BY_SECTOR.items():
        four_above = [True] * FOUR_ABOVE_BY_SECTOR[sector] + [False] * (count - FOUR_ABOVE_BY_SECTOR[sector])
        rng.shuffle(four_above)
        weights = [_town_weight(t.name, sector) for t in towns]
        for flag in four_above:
            town = rng.choices(towns, weights)[0]
            rows.append(_enterprise(rng, taken, sector, flag, town, org.district, divisions))
    order = {t.pk: i for i, t in enumerate(towns)}
    rows.sort(key=lambda e: (order[e.jurisdiction_id], e.sector, e.name))
    helpers = _assign_people(rows, org)
    neighbours = [
        _enterprise(rng, taken, sector, rng.random() < 0.5, rng.choice(org.neighbour_towns), org.neighbour,
                    divisions)
        for sector in rng.sample(list(Sector.values), NEIGHBOUR_ENTERPRISES)
    ]
    Enterprise.objects.bulk_create(rows + neighbours)
    for enterprise, pair in zip(rows, helpers, strict=True):
        pair.enterprise = enterprise
    Helpers.objects.bulk_create(helpers)
    _grant_contact_leaders(helpers, org)
    return list(Enterprise.objects.filter(jurisdiction__parent=org.district)
                .select_related("jurisdiction", "helpers__service_specialist", "helpers__contact_leader").order_by("pk"))


def _assign_people(rows: list[Enterprise], org: Org) -> list[Helpers]:
    """Specialists cover contiguous runs of towns (一对N); contact leaders follow seed 000's three levels.

    Returns each row's helpers, in the order of `rows`, to be saved once the enterprises have ids.
    """
    per_specialist = -(-len(rows) // len(org.specialists))
    helpers = [Helpers(service_specialist=org.specialists[i // per_specialist]) for i in range(len(rows))]
    industrial = [i for i, e in enumerate(rows) if e.sector == Sector.INDUSTRY and e.is_four_above]
    per_leader = -(-len(industrial) // len(org.leaders))
    for n, i in enumerate(industrial):
        # District leaders cover every 规上工业 enterprise.
        helpers[i].contact_leader = org.leaders[n // per_leader]
    for enterprise, pair in zip(rows, helpers, strict=True):
        if pair.contact_leader is not None:
            continue
        if enterprise.is_four_above:
            # Department leaders cover the other 四上 enterprises of their trade...
            unit = org.departments[HEAD_FOR_SECTOR[enterprise.sector]]
        else:
            # ...and the town's leaders the 四下 ones that struggle.
            unit = org.town_units[enterprise.jurisdiction_id]
        pair.contact_leader = org.heads[unit.pk]
    return helpers


def _grant_contact_leaders(rows: list[Helpers], org: Org) -> None:
    """Unit heads who are contact leaders (包联) also serve their enterprises like a specialist: they take
    in what the enterprise raises and see its demands. District leaders see the district anyway."""
    heads = {user.pk: user for user in org.heads.values()}
    leading = sorted({e.contact_leader.pk for e in rows if e.contact_leader.pk in heads})
    RoleGrant.objects.bulk_create([RoleGrant(user_id=pk, role=Role.SPECIALIST) for pk in leading])
    for pk in leading:
        heads[pk].__dict__.pop("_role_cache", None)
