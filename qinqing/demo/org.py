"""The demo's organisation: the jurisdiction tree, the handling units and one login per role."""

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password

from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, Unit, User
from qinqing.demands.models import Category

from . import names
from .figures import DISTRICT_CODE, NEIGHBOUR_CODE

PASSWORD = "qinqing2026"
DATA = Path(__file__).parent / "data"

# key (used in usernames and by the demand texts), full name, short name
DEPARTMENTS = (
    ("fgj", "武进区发展和改革局", "发改局"),
    ("gxj", "武进区工业和信息化局", "工信局"),
    ("czj", "武进区财政局", "财政局"),
    ("rsj", "武进区人力资源和社会保障局", "人社局"),
    ("zrj", "武进区自然资源和规划局", "自然资源局"),
    ("zjj", "武进区住房和城乡建设局", "住建局"),
    ("swj", "武进区商务局", "商务局"),
    ("scj", "武进区市场监督管理局", "市场监管局"),
    ("swu", "国家税务总局常州市武进区税务局", "税务局"),
    ("jrb", "武进区地方金融监督管理局（区金融办）", "金融办"),
    ("kjj", "武进区科学技术局", "科技局"),
    ("sthj", "常州市武进生态环境局", "生态环境分局"),
    ("spj", "武进区行政审批局", "行政审批局"),
    ("jtj", "武进区交通运输局", "交通局"),
    ("yjj", "武进区应急管理局", "应急管理局"),
    ("jyj", "武进区教育局", "教育局"),
)
# Where the dispatcher sends each kind by default (a suggestion: the texts often name another unit).
# 其它 has none on purpose: the dispatcher decides, usually the enterprise's town.
CATEGORY_UNITS = {
    "准入难": "spj", "融资难": "jrb", "降本增效难": "gxj", "政策落地难": "fgj", "引才用工难": "rsj",
    "创业难": "rsj", "转型升级难": "gxj",
}
# Pinyin keys for usernames of the town/street/park units.
TOWN_KEYS = {
    "320412001": "qishuyan", "320412002": "dingyan", "320412003": "lucheng", "320412100": "hutang",
    "320412102": "niutang", "320412103": "luoyang", "320412104": "yaoguan", "320412105": "henglin",
    "320412106": "hengshanqiao", "320412110": "xueyan", "320412113": "qianhuang", "320412114": "lijia",
    "320412119": "jiaze", "320412120": "huangli", "320412400": "kaifaqu", "320412411": "gaoxinqu",
    "320412412": "xitaihu", "320412413": "dujiaqu",
    "320411002": "sanjing", "320411003": "longhutang", "320411122": "benniu",
}
# Unit names of the parks, whose statistical names are terse.
PARK_UNITS = {
    "320412400": "武进经济开发区管委会", "320412411": "武进国家高新技术产业开发区管委会",
    "320412412": "西太湖科技产业园管委会", "320412413": "太湖湾旅游度假区管委会",
}
SPECIALISTS = 20
DEPUTY_LEADERS = ("常务副区长", "副区长", "副区长", "副区长", "副区长")


@dataclass
class Org:
    province: Jurisdiction = None
    city: Jurisdiction = None
    district: Jurisdiction = None
    neighbour: Jurisdiction = None
    towns: list = field(default_factory=list)
    neighbour_towns: list = field(default_factory=list)
    departments: dict = field(default_factory=dict)  # key -> Unit
    town_units: dict = field(default_factory=dict)  # jurisdiction id -> Unit
    joint_office: Unit = None
    supervision: Unit = None
    neighbour_units: dict = field(default_factory=dict)  # key -> Unit
    handlers: dict = field(default_factory=dict)  # unit id -> User
    heads: dict = field(default_factory=dict)  # unit id -> User
    dispatchers: list = field(default_factory=list)
    neighbour_dispatcher: User = None
    supervisor: User = None
    leaders: list = field(default_factory=list)
    city_leader: User = None
    admin: User = None
    specialists: list = field(default_factory=list)


class _Users:
    """Collects users and their roles, then writes them in two statements."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.password = make_password(PASSWORD)  # hashed once: hashing per user would take a minute
        self.pending: list[tuple[User, tuple[str, ...]]] = []

    def add(self, username, *roles, full_name=None, **fields) -> User:
        user = User(username=username, password=self.password, full_name=full_name or names.person(self.rng),
                    phone=names.mobile(self.rng), **fields)
        self.pending.append((user, roles))
        return user

    def save(self) -> None:
        User.objects.bulk_create([u for u, _ in self.pending])
        created = {u.username: u.pk for u in User.objects.filter(
            username__in=[u.username for u, _ in self.pending])}
        grants = []
        for user, roles in self.pending:
            user.pk = user.id = created[user.username]
            grants += [RoleGrant(user_id=user.pk, role=role) for role in roles]
        RoleGrant.objects.bulk_create(grants)


def _divisions() -> list[dict]:
    with (DATA / "divisions.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build(rng: random.Random) -> Org:
    org = Org()
    by_code: dict[str, Jurisdiction] = {}
    for row in _divisions():
        parent = by_code.get(row["parent"]) if row["parent"] else None
        by_code[row["code"]] = Jurisdiction.objects.create(code=row["code"], name=row["name"],
                                                           level=row["level"], parent=parent)
    org.province, org.city = by_code["320000"], by_code["320400"]
    org.district, org.neighbour = by_code[DISTRICT_CODE], by_code[NEIGHBOUR_CODE]
    org.towns = [j for j in by_code.values() if j.parent_id == org.district.pk]
    org.neighbour_towns = [j for j in by_code.values() if j.parent_id == org.neighbour.pk]

    district = org.district
    org.joint_office = Unit.objects.create(name="武进区民营经济联席办（区营商办）", short_name="区营商办",
                                           kind=Unit.Kind.JOINT_OFFICE, jurisdiction=district,
                                           phone=names.office_phone(rng))
    org.supervision = Unit.objects.create(name="武进区人民政府督查室", short_name="督查室",
                                          kind=Unit.Kind.SUPERVISION, jurisdiction=district,
                                          phone=names.office_phone(rng))
    for key, name, short in DEPARTMENTS:
        org.departments[key] = Unit.objects.create(name=name, short_name=short, kind=Unit.Kind.DEPARTMENT,
                                                   jurisdiction=district, phone=names.office_phone(rng))
    for town in org.towns:
        if town.code in PARK_UNITS:
            unit = Unit(name=PARK_UNITS[town.code], short_name=town.name, kind=Unit.Kind.PARK)
        elif town.name.endswith("街道"):
            unit = Unit(name=f"{town.name}办事处", short_name=town.name, kind=Unit.Kind.TOWN)
        else:
            unit = Unit(name=f"{town.name}人民政府", short_name=town.name, kind=Unit.Kind.TOWN)
        unit.jurisdiction, unit.phone = town, names.office_phone(rng)
        unit.save()
        org.town_units[town.pk] = unit
    neighbour = org.neighbour
    for key, name, short, kind in (("yso", "新北区营商环境办公室", "新北营商办", Unit.Kind.JOINT_OFFICE),
                                   ("rsj", "新北区人力资源和社会保障局", "新北人社局", Unit.Kind.DEPARTMENT),
                                   ("jrb", "新北区地方金融监督管理局", "新北金融局", Unit.Kind.DEPARTMENT)):
        org.neighbour_units[key] = Unit.objects.create(name=name, short_name=short, kind=kind,
                                                       jurisdiction=neighbour, phone=names.office_phone(rng))

    for category in Category.objects.filter(parent=None, name__in=CATEGORY_UNITS):
        category.default_unit = org.departments[CATEGORY_UNITS[category.name]]
        category.save(update_fields=["default_unit"])

    _people(org, rng)
    return org


def _people(org: Org, rng: random.Random) -> None:
    users = _Users(rng)
    d = org.district
    org.admin = users.add("admin", Role.ADMIN, full_name="系统管理员", is_staff=True, is_superuser=True,
                          jurisdiction=d)
    org.dispatchers = [users.add(name, Role.DISPATCHER, jurisdiction=d, unit=org.joint_office)
                       for name in ("diaodu", "diaodu2")]
    org.supervisor = users.add("ducha", Role.SUPERVISOR, jurisdiction=d, unit=org.supervision)
    org.leaders = [users.add("quzhang", Role.LEADER, jurisdiction=d)]
    org.leaders += [users.add(f"fuquzhang{i}", Role.LEADER, jurisdiction=d)
                    for i in range(1, len(DEPUTY_LEADERS) + 1)]
    org.city_leader = users.add("shiling", Role.LEADER, jurisdiction=org.city)
    for key, unit in org.departments.items():
        org.handlers[unit.pk] = users.add(f"{key}_cbr", Role.HANDLER, jurisdiction=d, unit=unit)
        org.heads[unit.pk] = users.add(f"{key}_fzr", Role.UNIT_HEAD, jurisdiction=d, unit=unit)
    for town in org.towns:
        unit, key = org.town_units[town.pk], TOWN_KEYS[town.code]
        org.handlers[unit.pk] = users.add(f"{key}_cbr", Role.HANDLER, jurisdiction=town, unit=unit)
        org.heads[unit.pk] = users.add(f"{key}_fzr", Role.UNIT_HEAD, jurisdiction=town, unit=unit)
    org.specialists = [users.add(f"zhuanyuan{i:02d}", Role.SPECIALIST, jurisdiction=d)
                       for i in range(1, SPECIALISTS + 1)]
    n = org.neighbour
    org.neighbour_dispatcher = users.add("xb_diaodu", Role.DISPATCHER, jurisdiction=n,
                                         unit=org.neighbour_units["yso"])
    for key in ("rsj", "jrb"):
        unit = org.neighbour_units[key]
        org.handlers[unit.pk] = users.add(f"xb_{key}_cbr", Role.HANDLER, jurisdiction=n, unit=unit)
        org.heads[unit.pk] = users.add(f"xb_{key}_fzr", Role.UNIT_HEAD, jurisdiction=n, unit=unit)
    users.save()


def add_enterprise_users(rng: random.Random, enterprises) -> list[User]:
    """Accounts for a few enterprises: (username, enterprise) pairs."""
    users = _Users(rng)
    made = [users.add(username, Role.ENTERPRISE, full_name=enterprise.contact_name, enterprise=enterprise)
            for username, enterprise in enterprises]
    users.save()
    return made
