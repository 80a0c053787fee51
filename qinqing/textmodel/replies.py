"""答复质量检查: advice on a formal reply before it is sent — never a block.

A reply is flagged when
  • it does not address the demand (`off_topic`): few of the demand's own character pairs come back in it
    (`relevance`); replies restate the matter ("您反映的“……”问题"), a reply pasted to the wrong demand or a
    generic one does not;
  • it names no measure (`no_measure`: what was or will be done — 已协调、将组织、整改、修复…),
  • no time (`no_time`: a date, a number of days, 月底/年内…; 近期 and 尽快 are not a time),
  • no responsible unit (`no_unit`: a 局、委、办、中心、街道、公司… by name),
  • no path (`no_path`: where or how the enterprise goes on — a phone number, a window, a document or rule
    relied on, 可向…申请),
  • or it is boilerplate (`boilerplate`): the same text, digits aside, was already sent on BOILERPLATE_AFTER
    other demands.
The thresholds were calibrated on 附件4 of the 2020 Teddy Cup data (2,816 public messages with the
government's replies): `manage.py textmodel replies FILE` prints the figures (the docstring of
`calibrate`). The check is recorded (ReplyCheck) each time it is asked for, and once more, marked sent,
when the reply is sent; the unit assessment shows the share of sent replies that were flagged.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction

from qinqing.lib import clock

from .duplicates import text_hash
from .normalize import normalize

# Below this relevance the reply does not address the demand. On 附件4 (`manage.py textmodel replies`):
# 13.4% of the government's real replies fall below it, and 90.1% of the same replies paired with another
# message at random (thresholds 0.03 / 0.08 flagged 9.7% / 25.9% of the real ones against 76% / 98%).
RELEVANCE_THRESHOLD = 0.05
BOILERPLATE_AFTER = 3  # the same reply already sent on this many other demands

FLAGS = {
    "off_topic": "答复与诉求内容关联度低，可能没有回应企业反映的问题",
    "no_measure": "没有写明采取或将要采取的具体措施",
    "no_time": "没有写明办理或解决的时间（“近期”“尽快”不算）",
    "no_unit": "没有写明负责办理的单位",
    "no_path": "没有给出后续办理路径（联系电话、办理窗口、依据的政策文件或申请方式）",
    "boilerplate": "与多件其他诉求的答复相同，像是套话",
}

_CJK = re.compile(r"[\u4e00-\u9fff]+")
_MEASURE = re.compile(
    r"(组织|协调|安排|督促|责成|要求|整改|修复|维修|清理|拆除|查处|处罚|约谈|核查|核实|调查|"
    r"现场|对接|落实|办理|受理|审批|发放|兑现|补贴|解决|完成|推进|纳入|调整|增设|加强|开展|部署|制定|出台|返还|退还)")
_TIME = re.compile(
    r"(\d{1,4}\s*(年|月|日|号|天|周|个月|个工作日|工作日|小时)|[一二三四五六七八九十两]+\s*(个)?(月|日|天|周|工作日|小时)|"
    r"月底|月初|月中|年底|年内|年初|本周|下周|本月|下月|上半年|下半年|季度|春节前|节前|目前|现已|日前)")
_UNIT = re.compile(
    r"[\u4e00-\u9fff]{1,12}(局|委员会|委|办公室|办|中心|街道|镇|乡|社区|居委会|村委会|公司|集团|银行|医院|学校|法院|"
    r"分局|支队|大队|中队|派出所|所|站|处|科|院|部)")
_PATH = re.compile(
    r"(\d{3,4}-?\d{7,8}|1[3-9]\d{9}|12345|电话|热线|窗口|大厅|网站|平台|公众号|APP|小程序|申请|申报|提交|材料|流程|"
    r"依据|根据|按照|规定|办法|意见|通知|文件|条例|《|可向|可到|可通过|请您|联系|咨询)", re.IGNORECASE)


def _bigrams(text: str) -> set[str]:
    return {run[i:i + 2] for run in _CJK.findall(text) for i in range(len(run) - 1)} - _GENERIC


# The 40 bigrams found in the most messages of 附件4 (问题、反映、希望、部门…): they are in every demand and
# every reply, and say nothing about whether this reply answers this demand.
_GENERIC = {("问题没有我们部门政府领导一个希望现在咨询什么可以相关投诉请求反映解决工作尊敬关部敬的情况严重我是居民百姓不能"
             "请问小区生活已经但是要求不是时间关于有关建设影响书记")[i:i + 2] for i in range(0, 80, 2)}


def relevance(title: str, content: str, reply: str) -> float:
    """How much of the demand comes back in the reply, 0..1: the overlap coefficient of the distinct Chinese
    character bigrams of the demand (title and the content's first 300 characters) and of the reply, the
    generic ones left out — shared bigrams over the smaller set's size."""
    wanted = _bigrams(normalize(title)) | _bigrams(normalize(content)[:300])
    found = _bigrams(normalize(reply))
    if not wanted or not found:
        return 0.0 if found or wanted else 1.0
    return round(len(wanted & found) / min(len(wanted), len(found)), 3)


@dataclass
class Advice:
    relevance: float
    flags: list = field(default_factory=list)
    reused: int = 0
    text_hash: str = ""

    @property
    def messages(self) -> list[str]:
        return [FLAGS[f] for f in self.flags]


def advise(title: str, content: str, reply: str, *, reused: int = 0) -> Advice:
    """The flags of a reply to a demand's title and content (`reused`: how many other demands already got
    this reply, digits aside). Pure: no query."""
    text = normalize(reply)
    score = relevance(title, content, reply)
    flags = []
    if score < RELEVANCE_THRESHOLD:
        flags.append("off_topic")
    for flag, pattern in (("no_measure", _MEASURE), ("no_time", _TIME), ("no_unit", _UNIT), ("no_path", _PATH)):
        if not pattern.search(text):
            flags.append(flag)
    if reused >= BOILERPLATE_AFTER:
        flags.append("boilerplate")
    return Advice(score, flags, reused, text_hash(reply))


def _reused(demand, digest: str) -> int:
    from .models import ReplyCheck

    return (ReplyCheck.objects.filter(text_hash=digest, sent=True).exclude(demand=demand)
            .values("demand_id").distinct().count())


def check_reply(user, demand, reply: str, *, sent: bool = False) -> tuple[Advice, object]:
    """The advice on `reply` to `demand`, recorded (ReplyCheck): asked for from the reply form or the API
    before sending (`sent` False), and by reply_demand as the reply is sent (`sent` True, inside its
    transaction). Never refuses: the caller decides. Two queries and one INSERT."""
    from .models import ReplyCheck

    advice = advise(demand.title, demand.content, reply)
    advice.reused = _reused(demand, advice.text_hash)
    if advice.reused >= BOILERPLATE_AFTER:
        advice.flags.append("boilerplate")
    with transaction.atomic():
        check = ReplyCheck.objects.create(
            demand=demand, unit_id=demand.lead_unit_id, actor=user if getattr(user, "pk", None) else None,
            checked_at=clock.now(), relevance=advice.relevance, flags=advice.flags, flagged=bool(advice.flags),
            reused=advice.reused, text_hash=advice.text_hash, sent=sent)
    return advice, check


def flagged_shares(unit_ids, start, end) -> dict[int, tuple[int, int]]:
    """{unit id: (replies sent, of which flagged)} for replies sent in [start, end) — one GROUP BY."""
    from django.db.models import Count, Q

    from .models import ReplyCheck

    rows = (ReplyCheck.objects.filter(sent=True, unit_id__in=list(unit_ids), checked_at__gte=start, checked_at__lt=end)
            .order_by().values("unit_id").annotate(n=Count("pk"), flagged=Count("pk", filter=Q(flagged=True))))
    return {r["unit_id"]: (r["n"], r["flagged"]) for r in rows}


def calibrate(rows: list[tuple[str, str, str]], seed: int = 20200301) -> dict:
    """Figures of the check on (title, content, reply) rows, e.g. 附件4: the relevance of each real reply to
    its own message against that of the same reply paired with another message at random (a reply to the
    wrong demand), the share of real replies each flag would raise, and the replies reused verbatim."""
    import random
    from collections import Counter

    rng = random.Random(seed)  # noqa: S311 - a reproducible pairing for the figures, not a secret
    real = [relevance(t, c, r) for t, c, r in rows]
    shuffled_replies = [r for _, _, r in rows]
    rng.shuffle(shuffled_replies)
    wrong = [relevance(t, c, r) for (t, c, _), r in zip(rows, shuffled_replies, strict=True)]
    hashes = Counter(text_hash(r) for _, _, r in rows)
    flag_counts = Counter()
    for t, c, r in rows:
        digest = text_hash(r)
        for flag in advise(t, c, r, reused=hashes[digest] - 1).flags:
            flag_counts[flag] += 1

    def quantiles(values):
        ordered = sorted(values)
        return [round(ordered[int(q * (len(ordered) - 1))], 3) for q in (0.1, 0.25, 0.5, 0.75, 0.9)]

    n = len(rows)
    return {
        "n": n,
        "real_quantiles": quantiles(real), "wrong_quantiles": quantiles(wrong),
        "real_below": round(sum(v < RELEVANCE_THRESHOLD for v in real) / n, 4),
        "wrong_below": round(sum(v < RELEVANCE_THRESHOLD for v in wrong) / n, 4),
        "flags": {flag: round(flag_counts[flag] / n, 4) for flag in FLAGS},
        "any_flag": round(sum(bool(advise(t, c, r, reused=hashes[text_hash(r)] - 1).flags) for t, c, r in rows) / n, 4),
        "reused_groups": sum(1 for k in hashes.values() if k > BOILERPLATE_AFTER),
    }

