"""疑似重复诉求: near-duplicates of a new demand listed on its page with their similarity, merged with the
existing verb; the index finds them in a few queries."""

import html as htmllib

import numpy as np
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.textmodel import duplicates
from qinqing.textmodel.models import Band, Signature
from tests.conftest import login

ROAD = ("园区道路破损严重影响货车通行", "南头工业园区主干道路面多处塌陷破损，大货车无法正常通行，企业原料和成品运输受阻，"
        "希望有关部门尽快组织修复园区道路。")
# The same matter from another enterprise, in slightly different words.
ROAD_AGAIN = ("园区道路破损影响货车通行", "南头工业园区主干道路面多处塌陷破损，货车无法正常通行，企业原料和成品运输受阻，"
              "希望有关部门尽快修复园区道路。")
LOAN = ("流动资金贷款到期", "银行要求企业提前还贷，希望协调银行续贷，缓解资金周转压力。")


def receive(world, enterprise, text):
    return services.receive_demand(world.dispatcher, enterprise=enterprise, channel=Channel.HOTLINE,
                                   title=text[0], content=text[1])


def test_the_signature_estimates_how_much_two_texts_share():
    same = duplicates.similarity(duplicates.signature(*ROAD), duplicates.signature(*ROAD))
    near = duplicates.similarity(duplicates.signature(*ROAD), duplicates.signature(*ROAD_AGAIN))
    far = duplicates.similarity(duplicates.signature(*ROAD), duplicates.signature(*LOAN))
    assert same == 1.0 and 0.5 <= near < 1.0 and far < 0.1
    # Traditional characters are normalized first: seed 004's way of writing the same text is the same text.
    assert duplicates.similarity(duplicates.signature(*ROAD), duplicates.signature("園區道路破損嚴重影響貨車通行",
                                                                                   ROAD[1])) > 0.8
    assert duplicates.signature(*ROAD).dtype == np.uint32 and len(duplicates.band_keys(duplicates.signature(*ROAD))) == 16


def test_a_dispatcher_sees_the_near_duplicate_with_its_similarity_and_merges_the_new_demand_into_it(world):
    first = receive(world, world.neighbour, ROAD)
    unrelated = receive(world, world.enterprise, LOAN)
    assert duplicates.index_demands([first, unrelated]) == 2
    assert duplicates.index_demands([first]) == 0  # already indexed: nothing written twice
    assert Signature.objects.count() == 2 and Band.objects.count() == 32
    new = receive(world, world.enterprise, ROAD_AGAIN)
    found = duplicates.candidates(world.dispatcher, new)
    assert [c.demand.pk for c in found] == [first.pk] and not found[0].same_enterprise
    page = htmllib.unescape(login(world.dispatcher).get(reverse("demands:detail", args=[new.number])).content.decode())
    assert "疑似重复诉求" in page and first.number in page and f"{round(found[0].similarity * 100)}%" in page
    assert unrelated.number not in page.split("疑似重复诉求")[1].split("</section>")[0]
    # The button merges the new demand into the one found, with the existing verb.
    response = login(world.dispatcher).post(reverse("demands:act", args=[new.number, "merge"]), {
        "version": new.version, "into": first.number, "note": "疑似重复诉求"})
    assert response.status_code == 302
    new.refresh_from_db()
    assert (new.state, new.duplicate_of_id) == (State.MERGED, first.pk)


def test_the_same_enterprise_writing_twice_is_found_at_half_the_threshold(world):
    first = receive(world, world.enterprise, ("厂区门口路灯损坏", "厂区门口路灯坏了一个月，夜班员工出行不安全，希望尽快修复路灯。"))
    duplicates.index_demands([first])
    again = receive(world, world.enterprise, ("厂区门口路灯还没有修", "上月反映的厂区门口路灯坏了，至今没有修复，夜班员工出行不安全。"))
    found = duplicates.candidates(world.dispatcher, again)
    assert [c.demand.pk for c in found] == [first.pk] and found[0].same_enterprise
    assert 0.25 <= found[0].similarity < 0.5


def test_closed_old_or_invisible_demands_are_not_candidates_and_only_a_dispatcher_sees_the_panel(world, demand):
    first = receive(world, world.neighbour, ROAD)
    duplicates.index_demands([first])
    Demand.objects.filter(pk=first.pk).update(state=State.CLOSED)
    new = receive(world, world.enterprise, ROAD_AGAIN)
    assert duplicates.candidates(world.dispatcher, new) == []
    Demand.objects.filter(pk=first.pk).update(state=State.RECEIVED)
    assert duplicates.candidates(world.other_dispatcher, new) == []  # another district's dispatcher sees neither
    page = login(world.handler).get(reverse("demands:detail", args=[demand.number]))
    assert "疑似重复诉求" not in page.content.decode()


def test_candidates_cost_four_queries_whatever_was_found(world, django_assert_max_num_queries):
    demands = [receive(world, world.neighbour, ROAD) for _ in range(5)]
    duplicates.index_demands(demands)
    new = receive(world, world.enterprise, ROAD)
    with django_assert_max_num_queries(4):  # the settings, the band lookup, the demands, their signatures
        found = duplicates.candidates(world.dispatcher, new)
    assert len(found) == 5


def test_the_signatures_command_indexes_the_demands_loaded_without_one(world, demand):
    from io import StringIO

    from django.core.management import call_command

    receive(world, world.neighbour, ROAD)
    out = StringIO()
    call_command("textmodel", "signatures", stdout=out)
    assert "已为 2 件诉求建立查重签名" in out.getvalue()
    assert Signature.objects.count() == 2 and Band.objects.count() == 32
    call_command("textmodel", "signatures", stdout=out)
    assert "已为 0 件诉求" in out.getvalue()


def test_merged_demands_share_one_handling_and_every_enterprise_gets_the_reply_and_rates_it(
        world, django_capture_on_commit_callbacks):
    from qinqing.demands.verbs import allowed_verbs
    from qinqing.notifications.models import Notification

    first = receive(world, world.enterprise, ROAD)
    again = receive(world, world.neighbour, ROAD_AGAIN)
    services.merge_demand(world.dispatcher, again, into=first.number)
    again.refresh_from_db()
    assert "evaluate" not in allowed_verbs(world.neighbour_owner, again)  # nothing to rate before the reply
    services.dispatch_demand(world.dispatcher, first, lead_unit=world.bureau)
    services.accept_demand(world.handler, first)
    services.contact_enterprise(world.handler, first, method="电话")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_demand(world.handler, first, reply="经区住建局协调，已于12月1日修复园区主干道。", outcome="solved")
    again.refresh_from_db()
    assert (again.state, again.reply, again.outcome) == (State.MERGED, "经区住建局协调，已于12月1日修复园区主干道。", "solved")
    assert Notification.objects.filter(recipient=world.neighbour_owner, demand=again, text__contains="已正式答复").exists()
    # Each enterprise rates the reply on its own demand; the merged one stays out of every count.
    assert "evaluate" in allowed_verbs(world.neighbour_owner, again)
    services.evaluate_demand(world.neighbour_owner, again, evaluation="satisfied")
    services.evaluate_demand(world.owner, first, evaluation="basic")
    again.refresh_from_db()
    first.refresh_from_db()
    assert (again.state, again.evaluation) == (State.MERGED, "satisfied")
    assert (first.state, first.evaluation) == (State.EVALUATED, "basic")
    assert "evaluate" not in allowed_verbs(world.neighbour_owner, again)  # rated once
