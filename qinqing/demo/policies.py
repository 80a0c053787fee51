"""The demo's policy library (惠企政策): the kinds of policy seeds 001–003 describe, for the demo district.

Seed 002 names what a district actually delivers (小规模纳税人减免增值税, 水土保持补偿费, 小微企业低压接入,
"免申即享" and "即申即享"); seed 003 the gap (enterprises learn of a policy after its deadline); seed 001 the
categories (税费, 用电用气, 融资, 人才). The records below are written for the demo: their 文号 say 演示 so
that nobody takes them for real documents, and they state no figures as facts. Their rules use what the demo
registry holds (industry, size, 四上, tags, town, 成立日期); the demo has no yearly figures, so amounts are fixed
or 按实际.

Each enterprise of the district gets a 成立日期 here (the registry's demo leaves it empty).
"""

import datetime as dt
import random
from decimal import Decimal

from qinqing.accounts.models import Jurisdiction
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from qinqing.policies import rules, services
from qinqing.policies.models import AmountKind, Policy, PolicyEvent, Status

from .figures import DISTRICT_CODE

PROVINCE, CITY = "320000", "320400"
HIGH_TECH_ZONE = "320412411"  # 高新区

# (title, issuer, level, where, benefit, amount (kind, value), no_application, rule rows, status, validity,
#  application window as days from today (None: none), interpretation)
P = dict


def _rows(*conds):
    return [{"group": 1, **c} for c in conds]


FOUR_ABOVE = {"field": "four_above"}
INDUSTRY = {"field": "industry", "value": "C"}
SMALL = {"field": "size", "value": "小型 微型"}

POLICIES = [
    P(title="规模以上工业企业技术改造设备投资补助", issuer="武进区工业和信息化局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "30"), rows=_rows(FOUR_ABOVE, INDUSTRY), window=(-20, 45),
      text="对当年完成设备投资的规模以上工业企业给予补助，按设备发票核定，单个企业最高30万元。"),
    P(title="高新技术企业首次认定奖励", issuer="武进区科学技术局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "20"), rows=_rows({"field": "tag", "value": "高新技术企业"}), window=(-10, 60),
      text="首次通过高新技术企业认定的企业，一次性奖励20万元；重新认定的不重复奖励。"),
    P(title="专精特新中小企业培育奖励", issuer="武进区工业和信息化局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "30"), rows=_rows({"field": "tag", "value": "专精特新"}), window=(-5, 25),
      text="被认定为省级专精特新中小企业的，给予一次性奖励。"),
    P(title="专精特新“小巨人”企业奖励", issuer="常州市工业和信息化局", level="city", where=CITY, benefit="grant",
      amount=("fixed", "50"), rows=_rows({"field": "tag", "value": "专精特新“小巨人”"}), window=(-30, 12),
      text="国家级专精特新“小巨人”企业给予一次性奖励，区级配套另行兑现。"),
    P(title="小规模纳税人减免增值税", issuer="国家税务总局常州市武进区税务局", level="national", where=PROVINCE,
      benefit="tax", amount=("actual", None), rows=_rows(SMALL), free=True,
      text="增值税小规模纳税人适用减征政策，申报时系统自动计算，无需另行申请。"),
    P(title="小型微利企业所得税优惠", issuer="国家税务总局常州市武进区税务局", level="national", where=PROVINCE,
      benefit="tax", amount=("actual", None), rows=_rows(SMALL, {"field": "four_above", "negate": True}), free=True,
      text="符合条件的小型微利企业减按规定比例计入应纳税所得额，年度汇算清缴时自动享受。"),
    P(title="降低收取水土保持补偿费", issuer="武进区财政局", level="province", where=PROVINCE, benefit="tax",
      amount=("actual", None), rows=_rows({"field": "industry", "value": "E F"}), free=True,
      text="按规定标准降低收取水土保持补偿费，由征收部门在核定时直接执行。"),
    P(title="小微企业低压接入服务", issuer="武进区发展和改革局", level="province", where=PROVINCE, benefit="other",
      amount=("actual", None), rows=_rows(SMALL), free=True,
      text="用电报装容量在规定以下的小微企业实行低压接入，由供电企业投资建设至用户红线，企业无需承担接入费用。"),
    P(title="研发费用加计扣除", issuer="国家税务总局常州市武进区税务局", level="national", where=PROVINCE,
      benefit="tax", amount=("actual", None),
      rows=[{"group": 1, "field": "tag", "value": "高新技术企业"}, {"group": 2, "field": "tag", "value": "科技型中小企业"}],
      free=True, text="企业开展研发活动实际发生的研发费用，在按规定据实扣除的基础上加计扣除，预缴申报时即可享受。"),
    P(title="新办小微企业创业补贴", issuer="武进区人力资源和社会保障局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "1"), rows=_rows(SMALL, {"field": "years", "op": "lt", "value": "3"}),
      window=(-60, 30), text="成立不满3年、正常经营的小微企业，给予一次性创业补贴。"),
    P(title="稳岗返还", issuer="武进区人力资源和社会保障局", level="province", where=PROVINCE, benefit="talent",
      amount=("actual", None), rows=_rows({"field": "years", "op": "gte", "value": "1"}), free=True,
      text="按规定参加失业保险、上年度未裁员或裁员率低于规定比例的企业，按实际缴费返还，经数据比对后直接拨付。"),
    P(title="吸纳高校毕业生就业社保补贴", issuer="武进区人力资源和社会保障局", level="city", where=CITY,
      benefit="talent", amount=("actual", None), rows=_rows(SMALL), window=(-90, 20),
      text="小微企业吸纳离校2年内高校毕业生就业并缴纳社会保险的，按实际缴费给予补贴。"),
    P(title="高层次人才项目资助", issuer="武进区人才工作领导小组办公室", level="district", where=DISTRICT_CODE,
      benefit="talent", amount=("fixed", "100"), rows=[{"group": 1, "field": "tag", "value": "高新技术企业"},
                                                       {"group": 2, "field": "tag", "value": "专精特新"}],
      window=(10, 70), text="引进高层次创新创业人才（团队）的企业，经评审给予项目资助。"),
    P(title="首贷贴息", issuer="武进区地方金融监督管理局（区金融办）", level="district", where=DISTRICT_CODE,
      benefit="financing", amount=("fixed", "5"), rows=_rows(SMALL), window=(-15, 8),
      text="小微企业首次获得银行贷款的，按贷款利息的一定比例给予贴息，单户上限5万元。"),
    P(title="小微企业应急转贷资金", issuer="武进区地方金融监督管理局（区金融办）", level="district",
      where=DISTRICT_CODE, benefit="financing", amount=("actual", None), rows=_rows(SMALL), window=None,
      text="小微企业银行贷款到期续贷暂时困难的，可申请使用应急转贷资金，常年受理。"),
    P(title="科技型中小企业信用贷款风险补偿", issuer="武进区科学技术局", level="district", where=DISTRICT_CODE,
      benefit="financing", amount=("actual", None), rows=_rows({"field": "tag", "value": "科技型中小企业"}),
      window=None, text="合作银行向科技型中小企业发放的信用贷款，发生损失的由风险补偿资金池按比例分担。"),
    P(title="工业用地弹性年期出让", issuer="武进区自然资源和规划局", level="district", where=DISTRICT_CODE,
      benefit="land", amount=("actual", None), rows=_rows(FOUR_ABOVE, INDUSTRY), window=None,
      text="规模以上工业企业新增用地可选择弹性年期出让或先租后让，降低一次性用地成本。"),
    P(title="“工业上楼”标准厂房租金减免", issuer="高新区管委会", level="district", where=HIGH_TECH_ZONE,
      benefit="land", amount=("fixed", "10"), rows=_rows(INDUSTRY, SMALL), window=(-40, 50),
      text="入驻高新区标准厂房的小微工业企业，前两年租金减免，单个企业每年最高10万元。"),
    P(title="高新区企业研发机构建设奖励", issuer="高新区管委会", level="district", where=HIGH_TECH_ZONE,
      benefit="grant", amount=("fixed", "20"), rows=_rows({"field": "tag", "value": "高新技术企业"}),
      window=(-10, 40), text="高新区内企业新建市级以上研发机构的，给予一次性奖励。"),
    P(title="限额以上批发零售企业入库奖励", issuer="武进区商务局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "5"), rows=_rows({"field": "industry", "value": "F"}, FOUR_ABOVE),
      window=(-20, 15), text="首次纳入限额以上统计的批发零售企业给予一次性奖励。"),
    P(title="住宿餐饮业消费促进补贴", issuer="武进区商务局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("actual", None), rows=_rows({"field": "industry", "value": "H"}), window=(-5, 10),
      text="参与区消费促进活动的住宿餐饮企业，按核销的消费券金额给予补贴。"),
    P(title="建筑业企业资质升级奖励", issuer="武进区住房和城乡建设局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "20"), rows=_rows({"field": "industry", "value": "E"}, FOUR_ABOVE),
      window=(-30, 35), text="建筑业企业资质晋升一级的，给予一次性奖励。"),
    P(title="道路运输企业车辆更新补助", issuer="武进区交通运输局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("actual", None), rows=_rows({"field": "industry", "value": "G"}), window=(-10, 55),
      text="道路货运企业淘汰老旧营运车辆、更新新能源车辆的，按车辆类型给予补助。"),
    P(title="农业龙头企业贷款贴息", issuer="武进区农业农村局", level="district", where=DISTRICT_CODE,
      benefit="financing", amount=("fixed", "10"), rows=_rows({"field": "industry", "value": "A"}), window=(-25, 30),
      text="从事农产品生产加工的企业用于基地建设、收购农产品的贷款，给予贴息。"),
    P(title="软件和信息技术服务企业首版次奖励", issuer="常州市工业和信息化局", level="city", where=CITY,
      benefit="grant", amount=("fixed", "30"), rows=_rows({"field": "industry", "value": "I"}), window=(-10, 18),
      text="软件产品首版次应用的企业，经认定给予奖励。"),
    P(title="中小企业数字化转型诊断服务", issuer="常州市工业和信息化局", level="city", where=CITY,
      benefit="other", amount=("actual", None), rows=_rows(INDUSTRY, {"field": "size", "value": "大型", "negate": True}),
      free=True, text="由市级财政购买服务，为中小工业企业免费提供数字化转型诊断，区工信局按名单直接安排。"),
    P(title="个体工商户和小微企业社保费缓缴", issuer="武进区人力资源和社会保障局", level="province", where=PROVINCE,
      benefit="tax", amount=("actual", None), rows=_rows(SMALL), window=(-200, -20), status="expired_date",
      valid=(-400, -15), text="阶段性缓缴养老、失业、工伤保险单位缴费部分，执行期已满。"),
    P(title="2025年度规上工业企业满负荷生产奖励", issuer="武进区工业和信息化局", level="district",
      where=DISTRICT_CODE, benefit="grant", amount=("fixed", "10"), rows=_rows(FOUR_ABOVE, INDUSTRY),
      window=(-330, -270), status="expired_date", valid=(-700, -1),
      text="一季度满负荷生产的规模以上工业企业给予奖励，本年度兑现已结束。"),
    P(title="疫情期间中小企业用电用气“欠费不停供”", issuer="武进区发展和改革局", level="district",
      where=DISTRICT_CODE, benefit="other", amount=("actual", None), rows=_rows(SMALL), window=None,
      status="expired", valid=(-1500, -1100),
      text="特殊时期对中小企业用电用气实行欠费不停供，已到期失效（见第001号报告）。"),
    P(title="商贸企业展会补贴（旧）", issuer="武进区商务局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "3"), rows=_rows({"field": "industry", "value": "F"}), window=None,
      status="repealed", valid=(-800, 200), text="已被新的商贸扶持办法取代，废止。"),
    P(title="绿色工厂创建奖励（征求意见稿）", issuer="常州市武进生态环境局", level="district", where=DISTRICT_CODE,
      benefit="grant", amount=("fixed", "20"), rows=_rows(INDUSTRY, FOUR_ABOVE), window=(30, 90), status="draft",
      text="获评省级以上绿色工厂的企业给予奖励，正在征求意见。"),
    P(title="知识产权质押融资贴息", issuer="武进区市场监督管理局", level="district", where=DISTRICT_CODE,
      benefit="financing", amount=("fixed", "5"), rows=[{"group": 1, "field": "tag", "value": "高新技术企业"},
                                                        {"group": 2, "field": "tag", "value": "科技型中小企业"}],
      window=(-50, 3), text="以专利、商标质押取得贷款的企业，按实际支付利息给予贴息。"),
]


def _established(rng: random.Random, today: dt.date) -> dt.date:
    """A founding date: most enterprises of a district are 3 to 25 years old, a few are new."""
    years = rng.choices((rng.uniform(0.2, 3), rng.uniform(3, 12), rng.uniform(12, 30)), (15, 50, 35))[0]
    return today - dt.timedelta(days=int(years * 365))


def build(rng: random.Random, step) -> None:
    today = clock.today()
    enterprises = list(Enterprise.objects.filter(established_on__isnull=True).only("pk"))
    for e in enterprises:
        e.established_on = _established(rng, today)
    Enterprise.objects.bulk_update(enterprises, ["established_on"], batch_size=500)
    places = {j.code: j for j in Jurisdiction.objects.filter(code__in=[PROVINCE, CITY, DISTRICT_CODE, HIGH_TECH_ZONE])}
    lookups = rules.Lookups()
    now = clock.now()
    policies = []
    for n, spec in enumerate(POLICIES, start=1):
        rule = rules.validate(spec["rows"], lookups)
        kind, value = spec["amount"]
        window = spec.get("window")
        valid = spec.get("valid", (-300, 700))
        status = {"expired_date": Status.PUBLISHED, None: Status.PUBLISHED}.get(spec.get("status"), spec.get("status"))
        valid_from, valid_until = today + dt.timedelta(days=valid[0]), today + dt.timedelta(days=valid[1])
        policies.append(Policy(
            title=spec["title"], issuer=spec["issuer"], doc_number=f"演示〔{valid_from.year}〕{n}号",
            level=spec["level"], jurisdiction=places[spec["where"]], published_on=valid_from,
            valid_from=valid_from, valid_until=valid_until,
            apply_opens=today + dt.timedelta(days=window[0]) if window else None,
            apply_closes=today + dt.timedelta(days=window[1]) if window else None,
            no_application=spec.get("free", False), benefit_type=spec["benefit"], amount_kind=kind,
            amount_fixed=Decimal(value) if kind == AmountKind.FIXED else None, interpretation=spec["text"],
            contact_unit=spec["issuer"], status=status, rule=rule, rule_text=rules.explain(rule),
            created_at=now, updated_at=now))
    Policy.objects.bulk_create(policies)
    saved = list(Policy.objects.order_by("pk"))
    events = [PolicyEvent(policy=p, verb=PolicyEvent.Verb.CREATE, created_at=now) for p in saved]
    events += [PolicyEvent(policy=p, verb=PolicyEvent.Verb.PUBLISH, created_at=now) for p in saved
               if p.status != Status.DRAFT]
    events += [PolicyEvent(policy=p, verb=PolicyEvent.Verb.REPEAL if p.status == Status.REPEALED else
                           PolicyEvent.Verb.EXPIRE, note="演示：已被新政策取代" if p.status == Status.REPEALED
                           else "演示：执行期满", created_at=now)
               for p in saved if p.status in (Status.REPEALED, Status.EXPIRED)]
    PolicyEvent.objects.bulk_create(events)
    matches = services.rematch_all_policies()  # the stored match table, set-based per policy, as the night does
    questions = _link_questions(saved)
    step(f"惠企政策已登记：{len(saved)}项（免申即享{sum(p.no_application for p in saved)}项），"
         f"企业成立日期{len(enterprises)}家，匹配结果{matches}条，政策问题{questions}件")


# The demo's 政策落地难 demands (qinqing.demo.texts) that are about one of the demo's policies: their title → the
# policy's. A demand received after the policy was published becomes one of its questions (the policy page lists
# them), as an enterprise's question asked from the portal would (services.ask_about_policy).
QUESTION_TOPICS = {
    "技改设备补贴申报后迟迟未兑现": "规模以上工业企业技术改造设备投资补助",
    "高新技术企业认定奖励未到位": "高新技术企业首次认定奖励",
    "稳岗返还政策申领咨询": "稳岗返还",
    "消费券、促销活动补贴政策兑现": "住宿餐饮业消费促进补贴",
}


def _link_questions(policies) -> int:
    from django.db.models import F

    from qinqing.demands.models import Demand
    from qinqing.policies.models import PolicyDemand

    by_title = {p.title: p for p in policies}
    links = []
    for topic, title in QUESTION_TOPICS.items():
        policy = by_title.get(title)
        if policy is None or policy.published_on is None:
            continue
        asked = (Demand.objects.filter(title=topic, category__name=services.QUESTION_KIND, enterprise__isnull=False,
                                       received_at__date__gte=policy.published_on, policy_link__isnull=True)
                 .annotate(at=F("received_at")).values_list("pk", "at"))
        links += [PolicyDemand(policy=policy, demand_id=pk, created_at=at) for pk, at in asked]
    PolicyDemand.objects.bulk_create(links)
    return len(links)
