"""The ledger as staff keep it: saved filters and chosen columns, each person's own."""

import pytest
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.workbench import services as workbench
from qinqing.workbench.models import SavedFilter
from tests.conftest import login

LEDGER = reverse("demands:ledger")


def test_a_filter_is_saved_under_a_name_and_offered_on_the_ledger(world, demand):
    client = login(world.dispatcher)
    response = client.post(reverse("workbench:save_filter"),
                           {"name": "本周超期", "query": "overdue=any&page=3&q=&state=received"})
    saved = SavedFilter.objects.get(user=world.dispatcher)
    assert saved.query == "overdue=any&state=received"  # no paging, no empty values
    assert response.url == f"{LEDGER}?{saved.query}"
    page = client.get(LEDGER, {"overdue": "any", "state": "received"}).content.decode()
    assert "本周超期" in page and "chip-on" in page


def test_saving_the_same_name_again_replaces_the_query(world):
    workbench.save_filter(world.dispatcher, name="待交办", query="state=received")
    workbench.save_filter(world.dispatcher, name="待交办", query="state=returned")
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["state=returned"]


@pytest.mark.parametrize(("name", "query", "message"), [
    ("", "state=received", "起个名字"),
    ("全部", "page=2", "没有任何筛选条件"),
    ("太长" * 21, "state=received", "不能超过40个字"),
])
def test_a_filter_that_cannot_be_saved_is_explained(world, name, query, message):
    with pytest.raises(DomainError, match=message):
        workbench.save_filter(world.dispatcher, name=name, query=query)


def test_saved_filters_are_private(world):
    mine = workbench.save_filter(world.dispatcher, name="赵的待交办", query="state=received")
    other = login(world.other_dispatcher)
    assert "赵的待交办" not in other.get(LEDGER).content.decode()
    assert other.post(reverse("workbench:delete_filter", args=[mine.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=mine.pk).exists()
    login(world.dispatcher).post(reverse("workbench:delete_filter", args=[mine.pk]))
    assert not SavedFilter.objects.exists()


def test_chosen_columns_change_the_ledger_table_for_that_person_only(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    client = login(world.dispatcher)
    client.post(reverse("workbench:columns"), {"cols": ["number", "title", "resolve_due", "nonsense"]})
    assert workbench.ledger_columns(world.dispatcher) == ["number", "title", "resolve_due"]
    page = client.get(LEDGER).content.decode()
    table = page.split("<thead>")[1].split("</thead>")[0]
    assert "办结期限" in table and "主办单位" not in table
    other_table = login(world.handler).get(LEDGER).content.decode().split("<thead>")[1].split("</thead>")[0]
    assert "主办单位" in other_table and "办结期限" not in other_table


def test_the_export_link_carries_the_current_filter(world, demand):
    page = login(world.dispatcher).get(LEDGER, {"q": "招聘", "page": "1"}).content.decode()
    assert f'{reverse("workbench:export")}?q=%E6%8B%9B%E8%81%98"' in page


def test_enterprise_accounts_cannot_save_filters_or_choose_columns(world):
    client = login(world.owner)
    assert client.post(reverse("workbench:save_filter"), {"name": "x", "query": "state=received"}).status_code == 404
    assert client.post(reverse("workbench:columns"), {"cols": ["number"]}).status_code == 404
    assert not SavedFilter.objects.exists()
