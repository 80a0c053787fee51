"""The briefing's figures add up on any data, not only on the demo.

A district is built from a seeded random draw: enterprises of every sector, 四上 and 四下, visits of every
form in and around the period, seminars here and next door, and demands received through the API and moved
through the services into every state (closed, solved on the spot, replied, evaluated, long-term, replied
after long-term study, transferred, each open state, merged). The test keeps its own counts while it builds,
then compares every number of the briefing paragraph, and every ledger link, with them.
"""

import datetime as dt
import io
import json
import random
import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import Category, Demand, Evaluation, Outcome, State
from qinqing.enterprises.models import Enterprise, Sector
from qinqing.reports.briefing import build_briefing
from qinqing.reports.stats import COUNTED_STATES, OUTCOME_CLAUSES, clause_of
from qinqing.visits.models import Form, Seminar, Visit

from .conftest import bearer, login, real_codes

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 27)
AS_OF = dt.date(2026, 12, 3)
OPEN_TARGETS = ("received", "dispatched", "returned", "accepted", "contacted", "planned", "reopened")
FATES = ("closed", "settled", "replied", "evaluated", "long_term", "long_term_replied", "transferred",
         *(f"open:{t}" for t in OPEN_TARGETS), "merged")
# Where the test itself expects each fate in the briefing (written out, not computed by the product).
EXPECTED_CLAUSE = {"closed": "已办结", "settled": "已办结", "replied": "已答复待评价", "evaluated": "已答复待评价",
                   "long_term": "区级研究推进", "long_term_replied": "已答复待评价", "transferred": "移送市级研究",
                   **{f"open:{t}": "尚在办理中" for t in OPEN_TARGETS}, "merged": None}


class Kept:
    """What the test counted while it built the district."""

    def __init__(self):
        self.forms_in_period: dict[int, set[str]] = {}  # enterprise id -> forms of its visits in the period
        self.enterprises: dict[int, Enterprise] = {}
        self.seminars = 0
        self.categories: Counter = Counter()
        self.clauses: Counter = Counter()
        self.merged = 0


def _day(rng, start, end) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _api_receive(client, token, world, rng, category, enterprise, day) -> Demand:
    body = {"channel": rng.choice(["visit", "hotline", "online", "meeting"]), "title": f"{category.name}问题",
            "content": f"企业反映{category.name}方面的困难，请协调解决。", "category": category.name,
            "received_at": f"{day.isoformat()}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00+08:00"}
    if enterprise is None:
        body["reporter_name"] = "张先生"
    else:
        body["credit_code"] = enterprise.credit_code
    response = client.post("/api/v1/demands", json.dumps(body), content_type="application/json", **token)
    assert response.status_code == 201, response.content
    return Demand.objects.get(pk=response.json()["id"])


def _move(world, d: Demand, fate: str, open_target: Demand) -> Demand:
    """Take a received demand to its fate through the services."""
    w = world
    if fate == "settled":
        if d.channel not in ("visit", "meeting"):
            d.channel = "visit"
            d.save(update_fields=["channel"])
        return services.close_on_the_spot(w.dispatcher, d, solution="现场协调解决。")
    if fate == "merged":
        return services.merge_demand(w.dispatcher, d, into=open_target)
    if fate == "open:received":
        return d
    d = services.dispatch_demand(w.dispatcher, d, lead_unit=w.bureau)
    if fate == "open:dispatched":
        return d
    if fate == "open:returned":
        return services.return_demand(w.handler, d, reason="不属于本单位职责。")
    if fate == "transferred":
        return services.transfer_to_city(w.dispatcher, d, reason="超出区级事权。")
    if fate in ("long_term", "long_term_replied"):
        d = services.mark_long_term(w.dispatcher, d, reason="需区级研究推进。")
        if fate == "long_term":
            return d
        return services.reply_demand(w.handler, d, reply="经研究已明确支持政策。", outcome=Outcome.SOLVED)
    d = services.accept_demand(w.handler, d)
    if fate == "open:accepted":
        return d
    d = services.contact_enterprise(w.handler, d, method="电话")
    if fate == "open:contacted":
        return d
    d = services.feed_back_path(w.handler, d, path="协调有关部门对接。")
    if fate == "open:planned":
        return d
    d = services.reply_demand(w.handler, d, reply="已协调解决。", outcome=Outcome.SOLVED)
    if fate == "replied":
        return d
    unsatisfied = fate == "open:reopened"
    d = services.evaluate_demand(w.dispatcher, d, evaluation=Evaluation.UNSATISFIED if unsatisfied
                                 else Evaluation.SATISFIED, comment="仍未解决。" if unsatisfied else "")
    if fate == "evaluated":
        return d
    if unsatisfied:
        return services.reopen_demand(w.dispatcher, d, reason="企业不满意。")
    return services.close_demand(w.dispatcher, d)


@pytest.fixture
def district(world, client):
    rng = random.Random(7)  # noqa: S311 - a reproducible draw, not a secret
    kept = Kept()
    codes = iter(real_codes()[10:])
    enterprises = [world.enterprise, world.neighbour]
    for i in range(24):
        enterprises.append(Enterprise.objects.create(
            name=f"南山测试企业{i:02d}有限公司", credit_code=next(codes), sector=rng.choice(Sector.values),
            jurisdiction=rng.choice([world.town, world.district]), is_four_above=rng.random() < 0.5))
    kept.enterprises = {e.pk: e for e in enterprises}

    # Visits of every form, some just before or after the period; next door's never count.
    for e in [*enterprises, world.other_enterprise]:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            day = _day(rng, START - dt.timedelta(days=15), END + dt.timedelta(days=5))
            form = rng.choice(Form.values)
            Visit.objects.create(enterprise=e, visited_on=day, form=form)
            if START <= day <= END and e.pk in kept.enterprises:
                kept.forms_in_period.setdefault(e.pk, set()).add(form)
    for _ in range(9):
        day = _day(rng, START - dt.timedelta(days=10), END + dt.timedelta(days=10))
        where = rng.choice([world.district, world.town, world.other_district])
        Seminar.objects.create(held_on=day, kind=rng.choice(Seminar.Kind.values), title="政策宣讲",
                               jurisdiction=where)
        kept.seminars += START <= day <= END and where != world.other_district

    # Demands: every fate at least once, then a random mix; some outside the period or the district.
    categories = list(Category.objects.filter(parent=None, active=True).order_by("position", "id"))
    token = bearer(world.dispatcher)
    fates = [*FATES, *rng.choices(FATES, k=30)]
    rng.shuffle(fates)
    target = _api_receive(client, token, world, rng, categories[0], world.enterprise, START)
    kept.categories[categories[0].name] += 1
    kept.clauses["尚在办理中"] += 1  # the open demand duplicates are merged into
    for fate in fates:
        category = rng.choice(categories)
        enterprise = None if rng.random() < 0.1 else rng.choice(enterprises)
        d = _api_receive(client, token, world, rng, category, enterprise, _day(rng, START, END))
        _move(world, d, fate, target)
        if EXPECTED_CLAUSE[fate] is None:
            kept.merged += 1
        else:
            kept.clauses[EXPECTED_CLAUSE[fate]] += 1
            kept.categories[category.name] += 1
    for day in (START - dt.timedelta(days=1), END + dt.timedelta(days=1)):
        _move(world, _api_receive(client, token, world, rng, categories[1], world.enterprise, day), "closed", target)
    _api_receive(client, bearer(world.other_dispatcher), world, rng, categories[1], world.other_enterprise, START)
    return kept


def expected_text(kept: Kept, meetings_count: bool) -> str:
    visit_forms = {Form.ON_SITE, Form.MEETING} if meetings_count else {Form.ON_SITE}
    visited = [kept.enterprises[pk] for pk, forms in kept.forms_in_period.items() if forms & visit_forms]
    contacted = [pk for pk, forms in kept.forms_in_period.items() if forms and not forms & visit_forms]
    above = sum(e.is_four_above for e in visited)
    sectors = Counter(e.sector for e in visited)
    text = (f"2026年11月2日至11月27日，共走访区内民营企业{len(visited)}家（“四上”企业{above}家、"
            f"“四下”存在困难的企业{len(visited) - above}家）。")
    if visited:
        text += "其中" + "、".join(f"{label}{sectors[v]}家" for v, label in Sector.choices if sectors[v]) + "。"
    if contacted:
        text += f"另{'电话、视频' if meetings_count else '电话、视频、会见'}联系{len(contacted)}家。"
    total = sum(kept.clauses.values())
    kinds = [(name, n) for name, n in kept.categories.items() if name != "其它" and n]
    order = list(Category.objects.filter(parent=None).order_by("position", "id").values_list("name", flat=True))
    kinds.sort(key=lambda kv: order.index(kv[0]))
    text += f"召开{kept.seminars}次宣讲会和座谈会，收集到企业反映的困难和问题{total}件，涉及"
    text += "、".join(f"{name}{n}件" for name, n in kinds)
    text += f"，其它问题{kept.categories['其它']}件" if kept.categories["其它"] else ""
    c = kept.clauses
    text += f"。截至2026年12月3日，已办结{c['已办结']}件，"
    text += f"已答复待评价{c['已答复待评价']}件，" if c["已答复待评价"] else ""
    text += f"区级研究推进{c['区级研究推进']}件，移送市级研究{c['移送市级研究']}件"
    text += f"，尚在办理中{c['尚在办理中']}件" if c["尚在办理中"] else ""
    return text + "。"


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+)[家件次]", text)]


def ledger_count(user, url: str) -> int:
    qs, form = filter_demands(Demand.objects.visible_to(user), QueryDict(urlsplit(url).query))
    assert form.is_valid(), form.errors
    return qs.count()


def test_every_counted_state_falls_in_exactly_one_outcome_clause():
    for state in State.values:
        owners = [c.key for c in OUTCOME_CLAUSES if state in c.states]
        assert len(owners) == (0 if state == State.MERGED else 1), state
        assert clause_of(state) == (owners[0] if owners else None)
    assert sorted(s for c in OUTCOME_CLAUSES for s in c.states) == sorted(COUNTED_STATES)


@pytest.mark.parametrize("meetings_count", [False, True])
def test_every_number_of_the_briefing_is_the_count_the_test_kept(district, world, settings, meetings_count):
    settings.QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS = meetings_count
    briefing = build_briefing(world.district, START, END, AS_OF)
    expected = expected_text(district, meetings_count)
    assert numbers(briefing.text) == numbers(expected)
    assert briefing.text == expected

    # The outcome clauses partition the demands collected, on the page's figures as in the text.
    d = briefing.demands
    assert sum(item.value for _, _, item in briefing.outcomes) == d.total.value == sum(district.clauses.values())
    assert {words: item.value for _, words, item in briefing.outcomes} == {
        words: district.clauses[words] for words in ("已办结", "已答复待评价", "区级研究推进", "移送市级研究", "尚在办理中")}
    assert d.merged.value == district.merged > 0
    assert all(district.clauses[words] for words in ("已办结", "已答复待评价", "区级研究推进", "移送市级研究", "尚在办理中"))

    # Each figure opens a ledger listing exactly that many demands.
    for item in [d.total, d.merged, *d.by_category, *(i for _, _, i in briefing.outcomes)]:
        assert ledger_count(world.leader, item.url) == item.value, item.label


def test_the_page_and_the_command_show_the_same_figures_and_state_the_rules(district, world):
    briefing = build_briefing(world.district, START, END, AS_OF)
    html = login(world.leader).get(reverse("reports:briefing"), {
        "jurisdiction": world.district.code, "start": START.isoformat(), "end": END.isoformat()}).content.decode()
    assert briefing.text in html
    assert "走访口径" in html and "会见不计入走访" in html and "只计入走访" in html
    formula = re.sub(r"<[^>]+>", "", re.search(r"收集<a.*?</p>", html, re.S).group(0))
    d = briefing.demands
    assert formula.startswith(
        f"收集{d.total.value}件 = 已办结{d.closed.value} + 已答复待评价{d.replied.value} + 区级研究推进"
        f"{d.long_term.value} + 移送市级研究{d.transferred.value} + 尚在办理中{d.open.value}（并单{d.merged.value}件不计入）")
    for _, _, item in briefing.outcomes:
        assert f'href="{item.url}"'.replace("&", "&amp;") in html

    out = io.StringIO()
    call_command("briefing", "--from", START.isoformat(), "--to", END.isoformat(), "--jurisdiction",
                 world.district.code, stdout=out)
    assert out.getvalue().strip() == briefing.text
