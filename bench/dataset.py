"""Build a benchmark database: a small city's organisation, N/20 enterprises and N demands.

The demands are written directly with bulk_create, not through the services: this is a
benchmark's fixture, not the product's write path. Their deadline columns are still computed
by the product's own `refresh_deadlines`, so the ledger order and the overdue sweep see exactly
what they would after real transitions. Import this module only after django.setup().
"""

import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, Unit, User
from qinqing.demands.clock import refresh_deadlines, rule_for
from qinqing.demands.models import (
    OPEN_STATES,
    Category,
    Channel,
    Demand,
    DemandSequence,
    Evaluation,
    Outcome,
    State,
    Tier,
)
from qinqing.enterprises.models import Enterprise, Helpers, Sector, Size
from qinqing.lib.text import tokens
from qinqing.lib.uscc import make_code
from qinqing.lib.workdays import WorkCalendar
from qinqing.workdays.calendar import get_calendar

BATCH = 10_000
WINDOW_DAYS = 548  # about 18 months of history
RECENT_DAYS = 30  # younger than this, most demands are still being handled
DAY = 86_400.0


class MemoCalendar(WorkCalendar):
    """The product's calendar with every answer remembered: identical results, a million times faster."""

    def __init__(self, base: WorkCalendar):
        super().__init__(base.overrides)
        self._memo: dict = {}

    def _cached(self, key, compute):
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def is_workday(self, day):
        return self._cached(("w", day), lambda: super(MemoCalendar, self).is_workday(day))

    def next_workday(self, day):
        return self._cached(("next", day), lambda: super(MemoCalendar, self).next_workday(day))

    def nth_workday(self, start, n):
        return self._cached(("nth", start, n), lambda: super(MemoCalendar, self).nth_workday(start, n))

    def add_workdays(self, day, n):
        return self._cached(("add", day, n), lambda: super(MemoCalendar, self).add_workdays(day, n))


# ---------------------------------------------------------------- texts

TOPICS = {
    "准入难": (["办理{x}审批时限过长", "{x}许可证续期材料反复补正", "参与政府项目招投标门槛过高",
              "新增经营范围登记受阻", "{x}资质升级申请长期未批", "跨区迁移登记手续繁琐"],
             ["企业计划扩大产能，但{x}审批已提交两个多月仍未办结，影响项目开工。",
              "窗口要求补充的材料前后不一致，已往返四次，希望明确一次性告知清单。",
              "招标文件对注册资本和业绩的要求明显超出项目需要，民营企业难以参与。",
              "新业务需要增加经营范围，系统提示需前置许可，但不清楚应向哪个部门申请。"]),
    "融资难": (["流动资金贷款到期续贷困难", "{x}设备抵押贷款额度不足", "申请信用贷款被要求追加担保",
              "应收账款融资渠道不畅", "贴息贷款申请进度缓慢", "银行抽贷导致资金链紧张"],
             ["企业有{n}万元流动资金贷款下月到期，银行表示需先还后贷，企业无力筹措过桥资金。",
              "新购{x}设备价值较高，但银行评估抵押率偏低，授信额度远低于实际需要。",
              "企业纳税信用等级为A级，申请信用贷款仍被要求提供房产抵押或担保公司担保。",
              "下游国有企业账期长达半年，希望协调开展应收账款质押融资。"]),
    "降本增效难": (["{x}用电成本明显上升", "厂房租金上涨压力大", "物流运输费用偏高", "社保缴费负担较重",
                "用水用气价格调整影响生产", "园区配套收费标准不透明"],
               ["今年以来企业月均电费增加约{n}万元，希望了解峰谷电价优化和电力市场化交易政策。",
                "园区厂房租金每平方米上涨{n}元，企业利润被大幅压缩，希望协调租金减免。",
                "企业原材料从外地运入，物流成本占销售额比重较高，希望对接本地物流资源。",
                "企业员工{n}人，社保缴费基数调整后负担加重，希望了解阶段性减免政策。"]),
    "政策落地难": (["{x}补贴资金迟迟未兑现", "稳岗返还申报后无结果", "研发费用加计扣除政策不清楚",
                "技改奖励申报材料被退回", "首台套保险补偿未落实", "人才引进奖励发放延迟"],
               ["企业去年获批{x}补贴{n}万元，至今未拨付到位，多次询问均答复等待财政资金。",
                "按通知要求提交了申报材料，系统显示已受理，但三个月来没有任何进展。",
                "财务人员对政策口径理解不一致，希望主管部门上门讲解并给予辅导。",
                "申报材料因格式问题被退回，但退回意见不具体，企业不知道如何修改。"]),
    "引才用工难": (["{x}技术工人招聘困难", "一线普工流失率高", "高层次人才落户手续复杂",
                "员工子女入学难", "人才公寓申请门槛高", "校企合作订单班对接困难"],
               ["企业扩产后缺少{x}操作工约{n}人，希望人社部门协助对接职业院校和招聘会。",
                "春节后员工返岗率不足七成，生产线无法满负荷运转，希望组织专场招聘。",
                "引进的研发骨干申请落户，需提供的证明材料多且部门之间互不认可。",
                "外地员工子女入学需积分，名额有限，影响骨干员工稳定。"]),
    "创业难": (["初创企业办公场地难找", "孵化器入驻条件不明确", "创业担保贷款申请难", "开办企业银行开户慢",
              "创业补贴申领流程复杂", "小微企业注册地址核验严格"],
             ["团队{n}人，刚完成注册，希望入驻孵化器获得低成本办公场地。",
              "申请创业担保贷款被要求提供公务员担保，团队成员均为外地人，难以满足。",
              "注册地址核验要求提供产权证明，但房东无法提供，导致执照办理停滞。",
              "不清楚创业补贴的申领条件和时间节点，希望有专人指导。"]),
    "转型升级难": (["{x}智能化改造缺乏资金", "数字化转型找不到服务商", "研发平台认定条件不清",
                "高新技术企业认定辅导需求", "生产线自动化改造审批", "技术改造项目备案困难"],
               ["企业计划投入{n}万元对{x}生产线进行智能化改造，希望了解技改补贴和贷款贴息政策。",
                "想推进ERP和MES系统上线，但缺少可信赖的本地服务商，希望推荐对接。",
                "企业研发投入占比已超过5%，希望申报市级工程技术研究中心，需要辅导。",
                "技改项目备案时被要求提供环评，但改造不涉及新增排放，希望明确要求。"]),
    "其它": (["周边道路施工影响企业出行", "厂区附近路灯损坏", "企业门前公交站点设置不合理", "园区网络信号差",
             "周边餐饮油烟扰民投诉", "厂区排水管网堵塞"],
            ["市政道路施工已持续{n}个月，货车无法进出，严重影响企业正常发货。",
             "厂区门口路灯损坏多日，夜班员工下班出行存在安全隐患。",
             "园区内移动网络信号弱，影响企业视频会议和远程办公。",
             "雨季厂区周边排水不畅，多次积水倒灌车间，希望尽快疏通管网。"]),
}
SUBTOPICS = {
    "融资难": ["信用贷款", "续贷转贷"],
    "降本增效难": ["用电成本", "物流成本"],
    "政策落地难": ["补贴兑现", "政策申报"],
    "引才用工难": ["技工招聘", "人才住房"],
}
FILLERS = ["数控机床", "注塑", "锂电池", "精密模具", "食品加工", "医疗器械", "电子元器件", "服装"]
REPLIES = ["经协调，相关部门已完成办理，企业表示认可。", "已向企业详细解释政策口径并指导重新申报。",
           "已组织银企对接会，银行已受理企业贷款申请。", "已协调施工单位调整作业时间并设置临时通道。",
           "已将企业纳入重点用工保障名单，组织专场招聘会两场。"]
PATHS = ["由主办单位牵头，三个工作日内上门了解情况，会同协办单位提出解决方案。",
         "先行电话沟通，明确材料要求后一次性告知企业，同步推动审批提速。",
         "对接金融机构开展专项评估，两周内给出授信方案。"]
DISTRICTS = [("440303", "罗湖区", ["桂园街道", "东门街道", "翠竹街道"]),
             ("440304", "福田区", ["园岭街道", "南园街道", "沙头街道"]),
             ("440305", "南山区", ["南头街道", "粤海街道", "科技园"]),
             ("440306", "宝安区", ["新安街道", "西乡街道", "航城街道"])]
DEPARTMENTS = ["人力资源局", "金融工作局", "工业和信息化局", "市场监督管理局"]
BRANDS = "华创新锐恒达鑫源联晟博远中科星辰嘉禾安泰宏图鼎盛瑞丰天成佳信力拓海川金石云帆"
TRADES = [("精密制造", Sector.INDUSTRY), ("电子科技", Sector.INDUSTRY), ("建筑工程", Sector.CONSTRUCTION),
          ("贸易", Sector.WHOLESALE_RETAIL), ("餐饮管理", Sector.HOSPITALITY), ("物流", Sector.TRANSPORT),
          ("置业", Sector.REAL_ESTATE), ("信息技术", Sector.SERVICES), ("生物医药", Sector.INDUSTRY),
          ("新材料", Sector.INDUSTRY)]
CHANNELS = [(Channel.VISIT, 30), (Channel.HOTLINE, 30), (Channel.ONLINE, 15), (Channel.WECHAT, 10),
            (Channel.MEETING, 5), (Channel.SEMINAR, 4), (Channel.OFFICER, 3), (Channel.OTHER, 3)]


@dataclass
class Org:
    city_dispatcher: User
    district_units: dict  # district code -> [handling unit ids]
    district_receivers: dict  # district code -> [user ids who take demands in]
    towns: list  # (town jurisdiction id, district code)
    categories: dict  # top-level name -> [category ids: the top one, then its children]
    enterprises: list = field(default_factory=list)  # (id, jurisdiction id, district code, credit code, name)


# ---------------------------------------------------------------- organisation

def build_org(n_enterprises: int, rng: random.Random) -> Org:
    """A city, four districts of three towns each, 30 units, users of every role, the enterprises."""
    password = make_password("bench-password")
    city = Jurisdiction.objects.create(code="440300", name="深圳市", level="city")
    city_office = Unit.objects.create(name="深圳市营商环境办公室", kind="joint_office", jurisdiction=city)
    Unit.objects.create(name="深圳市督查室", kind="supervision", jurisdiction=city)
    users: list[tuple[User, tuple]] = []

    def user(username, *roles, **fields):
        u = User(username=username, password=password, **fields)
        users.append((u, roles))
        return u

    city_dispatcher = user("city_dispatcher", Role.DISPATCHER, full_name="全市调度", jurisdiction=city,
                           unit=city_office)
    user("city_supervisor", Role.SUPERVISOR, full_name="市督查", jurisdiction=city)
    user("city_leader", Role.LEADER, full_name="市领导", jurisdiction=city)
    user("admin", Role.ADMIN, full_name="管理员", is_staff=True, is_superuser=True)
    district_units, district_receivers, towns = {}, {}, []
    for code, name, town_names in DISTRICTS:
        district = Jurisdiction.objects.create(code=code, name=name, level="district", parent=city)
        office = Unit.objects.create(name=f"{name}营商环境办公室", kind="joint_office", jurisdiction=district)
        handling = []
        for dept in DEPARTMENTS:
            unit = Unit.objects.create(name=f"{name}{dept}", kind="department", jurisdiction=district)
            handling.append(unit)
        for i, town_name in enumerate(town_names, start=1):
            town = Jurisdiction.objects.create(code=f"{code}{i:03d}", name=town_name, level="town",
                                               parent=district)
            towns.append((town.pk, code))
            if i <= 2:
                handling.append(Unit.objects.create(name=f"{town_name}办事处", kind="town", jurisdiction=town))
        receivers = [user(f"{code}_dispatcher", Role.DISPATCHER, full_name=f"{name}调度", jurisdiction=district,
                          unit=office)]
        receivers += [user(f"{code}_specialist{i}", Role.SPECIALIST, full_name=f"{name}专员{i}",
                           jurisdiction=district) for i in range(1, 4)]
        user(f"{code}_supervisor", Role.SUPERVISOR, full_name=f"{name}督查", jurisdiction=district)
        user(f"{code}_leader", Role.LEADER, full_name=f"{name}领导", jurisdiction=district)
        for j, unit in enumerate(handling):
            user(f"{code}_handler{j}", Role.HANDLER, full_name=f"{unit.name}承办人", jurisdiction=district,
                 unit=unit)
            user(f"{code}_head{j}", Role.UNIT_HEAD, full_name=f"{unit.name}负责人", jurisdiction=district,
                 unit=unit)
        district_units[code] = [u.pk for u in handling]
        district_receivers[code] = receivers
    User.objects.bulk_create([u for u, _ in users])
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=r) for u, roles in users for r in roles])
    district_receivers = {code: [u.pk for u in us] for code, us in district_receivers.items()}
    specialists = {code: ids[1:] for code, ids in district_receivers.items()}

    categories = {}
    for top in Category.objects.filter(parent=None):
        ids = [top.pk]
        for position, child in enumerate(SUBTOPICS.get(top.name, ()), start=1):
            ids.append(Category.objects.create(name=child, parent=top, position=position).pk)
        categories[top.name] = ids

    org = Org(city_dispatcher=city_dispatcher, district_units=district_units,
              district_receivers=district_receivers, towns=towns, categories=categories)
    rows, helpers = [], []
    for i in range(1, n_enterprises + 1):
        town_id, district_code = towns[i % len(towns)]
        trade, sector = TRADES[rng.randrange(len(TRADES))]
        brand = "".join(rng.sample(BRANDS, 2))
        name = f"深圳市{brand}{trade}有限公司{i}号"  # the number keeps 50k names distinct
        code = make_code(f"91{district_code}{i:09d}")
        rows.append(Enterprise(
            id=i, name=name, credit_code=code, sector=sector, jurisdiction_id=town_id,
            size=rng.choice(Size.values), is_four_above=rng.random() < 0.2,
            contact_name="联系人", contact_phone=f"138{i:08d}"))
        helpers.append(Helpers(enterprise_id=i, service_specialist_id=rng.choice(specialists[district_code])))
        org.enterprises.append((i, town_id, district_code, code, name))
    for start in range(0, len(rows), BATCH):
        Enterprise.objects.bulk_create(rows[start:start + BATCH])
        Helpers.objects.bulk_create(helpers[start:start + BATCH])
    _reset_sequences([Enterprise])
    return org


def load_org() -> Org:
    """The Org of a database an earlier run built (for --reuse): what the measurements read from it."""
    categories = {}
    for top in Category.objects.filter(parent=None):
        categories[top.name] = [top.pk, *Category.objects.filter(parent=top).values_list("pk", flat=True)]
    org = Org(city_dispatcher=User.objects.get(username="city_dispatcher"), district_units={},
              district_receivers={}, towns=[], categories=categories)
    org.enterprises = [(pk, jur, "", code, name) for pk, jur, code, name in
                       Enterprise.objects.order_by("pk").values_list("pk", "jurisdiction_id", "credit_code", "name")]
    return org


def _reset_sequences(models):
    """Explicit ids were written: move PostgreSQL's sequences past them (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# ---------------------------------------------------------------- demands

def _texts(rng: random.Random, count: int = 300) -> list[tuple[str, str, str]]:
    """A few hundred (category name, title, content) triples: enough variety for search and suggestions."""
    out = []
    names = list(TOPICS)
    while len(out) < count:
        name = names[len(out) % len(names)]
        titles, contents = TOPICS[name]
        x, n = rng.choice(FILLERS), rng.choice([3, 5, 8, 12, 20, 30, 50, 80, 120, 200, 500])
        title = rng.choice(titles).format(x=x)
        content = " ".join(c.format(x=x, n=n) for c in rng.sample(contents, rng.choice([1, 2, 3])))
        out.append((name, title, content))
    return out


def _receipt_times(n: int, now: dt.datetime, rng: random.Random) -> list[float]:
    """N receipt instants (epoch seconds) over the window: office hours, weekdays five times busier."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    days = []
    for k in range(WINDOW_DAYS):
        day = today - dt.timedelta(days=k)
        days.append((day, 5 if day.weekday() < 5 else 1))
    weights = [w for _, w in days]
    picked = rng.choices([d for d, _ in days], weights=weights, k=n)
    limit = now.timestamp() - 60
    out = []
    for day in picked:
        start = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=tz).timestamp()
        ts = start + rng.random() * 9.5 * 3600
        if ts > limit:  # today, later than now: it came in this morning instead
            ts = limit - rng.random() * max(60.0, limit - start)
        out.append(ts)
    out.sort()
    return out


def _open_state(age_days: float, rng: random.Random) -> State:
    """Where an open demand stands: recent ones by their age (with some lagging), old ones anywhere."""
    if age_days >= RECENT_DAYS:
        return rng.choice(OPEN_STATES)
    roll = rng.random()
    if roll < 0.03:
        return State.RETURNED
    if roll < 0.06 and age_days > 5:
        return State.REOPENED
    ladder = [State.RECEIVED, State.DISPATCHED, State.ACCEPTED, State.CONTACTED, State.PLANNED]
    step = 0 if age_days < 0.5 else 2 if age_days < 1.5 else 3 if age_days < 2.5 else 4
    if step and rng.random() < 0.15:  # the late ones: the overdue list is never empty
        step = max(0, step - rng.choice([1, 2, 3]))
    return ladder[step]


def _state(age_days: float, rng: random.Random) -> State:
    roll = rng.random()
    if age_days < RECENT_DAYS:
        if roll < 0.85:
            return _open_state(age_days, rng)
        if roll < 0.93:
            return State.REPLIED
        if roll < 0.96:
            return State.EVALUATED
        return State.CLOSED
    for state, share in ((None, 0.035), (State.LONG_TERM, 0.035), (State.TRANSFERRED, 0.01),
                         (State.MERGED, 0.005), (State.REPLIED, 0.004), (State.EVALUATED, 0.004)):
        if roll < share:
            return state or _open_state(age_days, rng)
        roll -= share
    return State.CLOSED


class Row:
    """A demand row as plain attributes: what `refresh_deadlines` reads and writes, without Model.__init__."""

    def due_for(self, stage: str) -> dt.date:
        return getattr(self, f"{stage}_due")


class RowWriter:
    """Inserts plain rows into one table: COPY on PostgreSQL, executemany on SQLite.

    Values are adapted once per column type here rather than per field per row by the ORM,
    which is what makes a million rows take minutes instead of an hour.
    """

    def __init__(self, model, attnames: list[str] | None = None):
        fields = [f for f in model._meta.concrete_fields if attnames is None or f.attname in attnames]
        self.table = model._meta.db_table
        self.attnames = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        pg = connection.vendor == "postgresql"
        # COPY's text format takes JSON as its text (Demand.pause_shift): psycopg does not adapt a dict there.
        self.adapters = [(json.dumps if f.get_internal_type() == "JSONField" else None) if pg
                         else _sqlite_adapter(f.get_internal_type()) for f in fields]

    def write(self, rows: list[dict]) -> None:
        names, adapters = self.attnames, self.adapters
        tuples = [tuple(v if a is None or v is None else a(v) for v, a in zip(
            (row[n] for n in names), adapters, strict=True)) for row in rows]
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.table} ({quoted}) FROM STDIN") as copy:
                    for values in tuples:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {self.table} ({quoted}) VALUES ({marks})", tuples)


def _sqlite_adapter(internal_type: str):
    """Store values exactly as Django's SQLite backend does (datetimes naive UTC text, dates ISO text)."""
    if internal_type == "DateTimeField":
        return lambda v: str(v.astimezone(dt.UTC).replace(tzinfo=None))
    if internal_type == "DateField":
        return lambda v: v.isoformat()
    if internal_type == "BooleanField":
        return int
    if internal_type == "JSONField":
        return json.dumps
    return None


def build_demands(n: int, org: Org, rng: random.Random, report) -> dict:
    """Write N demands in batches; return counts by state."""
    now = timezone.now()
    now_ts = now.timestamp()
    cal = MemoCalendar(get_calendar())
    rule = rule_for(None)
    texts = _texts(rng)
    text_tokens = {i: tokens(title, content) for i, (_, title, content) in enumerate(texts)}
    name_tokens: dict[int, list[str]] = {}
    times = _receipt_times(n, now, rng)
    channel_values = [c for c, _ in CHANNELS]
    channel_weights = [w for _, w in CHANNELS]
    n_ent = len(org.enterprises)
    sequences: dict[int, int] = {}
    demand_writer = RowWriter(Demand)
    defaults = demand_writer.defaults
    co_writer = RowWriter(Demand.co_units.through, ["demand_id", "unit_id"])
    tz = timezone.get_current_timezone()
    started = time.perf_counter()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # this connection only: indexes of a million rows stay in memory
            cursor.execute("PRAGMA cache_size = -524288")

    def at(ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(min(ts, now_ts - 1), tz=dt.UTC)

    for batch_start in range(0, n, BATCH):
        demands, co_rows = [], []
        for i in range(batch_start, min(n, batch_start + BATCH)):
            pk = i + 1
            ts = times[i]
            received = at(ts)
            year = dt.datetime.fromtimestamp(ts, tz=tz).year
            sequences[year] = sequences.get(year, 0) + 1
            age = (now_ts - ts) / DAY
            state = _state(age, rng)
            text_id = rng.randrange(len(texts))
            cat_name, title, content = texts[text_id]
            cat_ids = org.categories[cat_name]
            category_id = cat_ids[0] if len(cat_ids) == 1 or rng.random() < 0.6 else rng.choice(cat_ids[1:])
            if rng.random() < 0.03:  # an individual or an anonymous caller, not an enterprise
                ent = None
                town_id, district = org.towns[rng.randrange(len(org.towns))]
                words = text_tokens[text_id]
            else:
                ent = org.enterprises[int(n_ent * rng.random() ** 2)]  # a few enterprises speak often
                town_id, district = ent[1], ent[2]
                if ent[0] not in name_tokens:
                    name_tokens[ent[0]] = tokens(ent[4])
                words = list(dict.fromkeys(text_tokens[text_id] + name_tokens[ent[0]]))
            d = Row()
            d.__dict__.update(defaults)
            d.__dict__.update(
                id=pk, number=f"QQ{year}-{sequences[year]:06d}", enterprise_id=ent[0] if ent else None,
                reporter_name="" if ent else rng.choice(["匿名", "王先生", "李女士"]),
                jurisdiction_id=town_id, channel=rng.choices(channel_values, channel_weights)[0],
                title=title, content=content, category_id=category_id, received_at=received,
                first_receiver_id=rng.choice(org.district_receivers[district]), state=str(state),
                tier=int(Tier.UNIT), search_text=" " + " ".join(words) + " ",
                created_at=received,
            )
            _progress(d, state, ts, age, rng, at, org.district_units[district], pk)
            if d.lead_unit_id and rng.random() < 0.08:
                co = rng.choice(org.district_units[district])
                if co != d.lead_unit_id:
                    co_rows.append({"demand_id": pk, "unit_id": co})
            refresh_deadlines(d, cal, rule)
            # Plain values for the drivers: psycopg would write an enum member's name, not its value.
            for key in ("state", "channel", "outcome", "evaluation", "current_stage"):
                setattr(d, key, str(getattr(d, key)))
            d.tier = int(d.tier)
            demands.append(d.__dict__)
        with transaction.atomic():
            demand_writer.write(demands)
            co_writer.write(co_rows)
        done = batch_start + len(demands)
        if done % (BATCH * 10) == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            report(f"    {done:,} demands written ({rate:,.0f}/s)")
    _reset_sequences([Demand, Demand.co_units.through])
    DemandSequence.objects.bulk_create([DemandSequence(year=y, last=last) for y, last in sequences.items()])
    return dict(Demand.objects.values_list("state").annotate(c=Count("pk")).order_by())


def _progress(d: Row, state: State, ts: float, age: float, rng: random.Random, at, units, pk: int) -> None:
    """Fill the stage timestamps, units and results that `state` implies, in a plausible order."""
    if state in (State.RECEIVED, State.MERGED):
        if state == State.MERGED and pk > 1:
            d.duplicate_of_id = max(1, pk - rng.randint(1, 500))
            d.closed_at = at(ts + rng.uniform(0.05, 1) * DAY)
        d.updated_at = d.closed_at or d.received_at
        return
    span = min(1.0, max(age, 0.01))  # the youngest demands moved within the hours they have had
    t = ts + rng.uniform(0.05, 0.6) * DAY * span
    d.dispatched_at = at(t)
    d.lead_unit_id = rng.choice(units)
    if state == State.RETURNED:
        d.lead_unit_id, d.return_count = None, 1
        d.updated_at = at(t + 0.2 * DAY * span)
        return
    last = t
    for name, lo, hi in (("accepted_at", 0.02, 0.4), ("contacted_at", 0.2, 1.0), ("path_at", 0.3, 1.0)):
        if state == State.DISPATCHED or (state == State.ACCEPTED and name != "accepted_at") or (
                state == State.CONTACTED and name == "path_at"):
            break
        last += rng.uniform(lo, hi) * DAY * span
        setattr(d, name, at(last))
    if state in (State.DISPATCHED, State.ACCEPTED, State.CONTACTED, State.PLANNED):
        d.extension_days = 5 if rng.random() < 0.03 else 0
        d.solution_path = rng.choice(PATHS) if d.path_at else ""
        d.updated_at = at(last)
        return
    d.solution_path = rng.choice(PATHS)
    last += rng.uniform(2, 25) * DAY * (1 if age > 30 else span)
    d.replied_at = at(last)
    d.reply = rng.choice(REPLIES)
    d.outcome = rng.choices([Outcome.SOLVED, Outcome.EXPLAINED, Outcome.UNSOLVABLE], [80, 18, 2])[0]
    if state == State.LONG_TERM:
        d.outcome, d.tier = Outcome.LONG_TERM, Tier.DISTRICT_LEADER
    elif state == State.TRANSFERRED:
        d.outcome, d.tier = Outcome.TRANSFERRED, Tier.CITY
    elif state == State.REOPENED:
        last += rng.uniform(0.5, 3) * DAY
        d.evaluated_at, d.evaluation = at(last), Evaluation.UNSATISFIED
        last += rng.uniform(0.05, 0.5) * DAY
        d.reopened_at, d.reopen_count = at(last), 1
    elif state in (State.EVALUATED, State.CLOSED):
        last += rng.uniform(0.5, 5) * DAY
        d.evaluated_at = at(last)
        d.evaluation = rng.choices([Evaluation.SATISFIED, Evaluation.BASIC], [95, 5])[0]
        d.evaluation_by_callback = rng.random() < 0.3
        if state == State.CLOSED:
            last += rng.uniform(0.1, 2) * DAY
            d.closed_at = at(last)
            d.reopen_count = 1 if rng.random() < 0.02 else 0
    if rng.random() < 0.05:
        d.tier = max(d.tier, Tier.JOINT_OFFICE)
    d.updated_at = at(last)


def analyze() -> None:
    """Fresh statistics, as a production database would have after autovacuum."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            # Flush the bulk load now, as a server in steady state would have long done, so that a
            # checkpoint writing 1.5 GB does not land in the middle of the measurements.
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")


def overdue_count(today: dt.date) -> int:
    return Demand.objects.filter(next_due__lt=today).count()


def open_count() -> int:
    return Demand.objects.filter(Q(state__in=OPEN_STATES)).count()
