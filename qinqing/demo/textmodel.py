"""Demo: the text model's records for the demo's demands (qinqing.textmodel) — the duplicate check's index of
every demand, so the demand pages list their near-duplicates, and the reply quality check of every reply
already sent without one (the stories' replies went through reply_demand, which checks them; history loaded
another way did not), so the unit assessment shows each unit's share of flagged replies.

Deterministic (no randomness: the demo's texts decide), a few seconds: one signature per demand (numpy)
and one pure advice per replied demand, written with bulk_create."""

from collections import Counter

from django.db.models import Exists, OuterRef

from qinqing.demands.models import Demand
from qinqing.textmodel import duplicates, replies
from qinqing.textmodel.models import ReplyCheck


def build(step) -> None:
    indexed = duplicates.index_missing()
    checked = ReplyCheck.objects.filter(demand=OuterRef("pk"), sent=True)
    rows = list(Demand.objects.exclude(reply="").filter(replied_at__isnull=False).exclude(Exists(checked))
                .order_by("replied_at", "pk").values_list("pk", "title", "content", "reply", "lead_unit_id", "replied_at"))
    sent = Counter(ReplyCheck.objects.filter(sent=True).values_list("text_hash", flat=True))
    checks = []
    for pk, title, content, reply, unit_id, replied_at in rows:  # in the order they were sent: reuse counts up
        digest = duplicates.text_hash(reply)
        advice = replies.advise(title, content, reply, reused=sent.get(digest, 0))
        sent[digest] = sent.get(digest, 0) + 1
        checks.append(ReplyCheck(demand_id=pk, unit_id=unit_id, checked_at=replied_at, relevance=advice.relevance,
                                 flags=advice.flags, flagged=bool(advice.flags), reused=advice.reused,
                                 text_hash=digest, sent=True))
    ReplyCheck.objects.bulk_create(checks, batch_size=2000)
    flagged = sum(c.flagged for c in checks)
    step(f"文本智能：{indexed}件诉求建立查重签名；{len(checks)}件已发答复完成质量检查，其中{flagged}件有提示")
