"""Chinese keyword search finds words inside Chinese text, through the database's own index."""

from qinqing.demands import services
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import Channel, Demand

from .conftest import at


def search(user, q):
    qs, form = filter_demands(Demand.objects.visible_to(user), {"q": q})
    assert form.is_valid(), form.errors
    return set(qs.values_list("title", flat=True))


def receive(world, title, content):
    return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                   title=title, content=content, received_at=at("2026-10-12 09:00"))


def test_a_word_inside_a_chinese_sentence_is_found(world, demand):
    receive(world, "厂房租金上涨", "园区厂房租金今年上涨两成，希望协调减免")
    assert search(world.dispatcher, "招聘") == {"技术工人招聘困难"}
    assert search(world.dispatcher, "数控机床") == {"技术工人招聘困难"}
    assert search(world.dispatcher, "租金减免") == {"厂房租金上涨"}


def test_every_word_of_the_query_must_match(world, demand):
    receive(world, "厂房租金上涨", "园区厂房租金今年上涨两成")
    assert search(world.dispatcher, "租金 招聘") == set()


def test_the_enterprise_name_is_searchable(world, demand):
    assert search(world.dispatcher, "南头") == {"技术工人招聘困难"}


def test_a_demand_number_finds_that_demand(world, demand):
    assert search(world.dispatcher, demand.number.lower()) == {"技术工人招聘困难"}


def test_search_never_reaches_beyond_what_the_user_may_see(world, demand):
    assert search(world.other_dispatcher, "招聘") == set()


def test_the_index_follows_changes_to_the_searchable_words(world, demand):
    Demand.objects.filter(pk=demand.pk).update(search_text=" 完全 不同 ")
    assert search(world.dispatcher, "招聘") == set()
    assert search(world.dispatcher, "不同") == {"技术工人招聘困难"}


def test_a_common_word_is_found_the_same_way_as_a_rare_one(world, demand, monkeypatch):
    """On SQLite a word with many matches switches to probing the index row by row: same answer."""
    from qinqing.demands import search as search_module

    for i in range(4):
        receive(world, f"融资难题{i}", "银行贷款审批慢，希望协调续贷")
    receive(world, "厂房租金上涨", "园区厂房租金今年上涨两成")
    expected = {f"融资难题{i}" for i in range(4)}
    assert search(world.dispatcher, "贷款") == expected
    monkeypatch.setattr(search_module, "SQLITE_FEW_MATCHES", 2)
    assert search(world.dispatcher, "贷款") == expected
    assert search(world.dispatcher, "贷款 续贷") == expected
    assert search(world.other_dispatcher, "贷款") == set()
