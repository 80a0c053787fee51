"""One column registry, two renderings: the ledger table and its Excel export show the same columns under
the same labels, and another list can declare its columns from the same registry."""

from io import BytesIO

import pytest
from django.db.models import Count
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.demands import services
from qinqing.demands.columns import COLUMNS, LEDGER_TABLE
from qinqing.demands.models import Demand
from qinqing.lib.tables import Column, ColumnSet, prepare, render_rows, write_xlsx
from qinqing.workbench import services as workbench
from tests.conftest import login

LEDGER = reverse("demands:ledger")
EXPORT = reverse("workbench:export")


def _table_head(page: str) -> list[str]:
    """The column labels of the page's table; the tick-box column of the bulk actions selects rows, it is not
    a column of the ledger, so it is left out."""
    head = page.split("<thead>")[1].split("</thead>")[0]
    cells = [cell.split(">", 1)[1].split("</th>")[0] for cell in head.split("<th")[1:]]
    return [cell for cell in cells if "data-pick-all" not in cell]


def test_every_ledger_column_shows_in_the_table_and_the_export_under_the_same_label(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    keys = [c.key for c in LEDGER_TABLE]
    client = login(world.dispatcher)
    workbench.choose_columns(world.dispatcher, keys)
    table = _table_head(client.get(LEDGER).content.decode())
    sheet = load_workbook(BytesIO(client.get(EXPORT).content)).active
    headers = [c.value for c in sheet[1]]
    labels = [c.label for c in LEDGER_TABLE]
    assert table == labels
    assert headers == labels
    assert len(sheet[2]) == len(labels)


def test_the_table_and_the_export_agree_on_each_plain_value(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    sheet = load_workbook(BytesIO(login(world.dispatcher).get(EXPORT, {"all_columns": "1"}).content)).active
    exported = {h.value: c.value for h, c in zip(sheet[1], sheet[2], strict=True)}
    row = Demand.objects.select_related("enterprise", "lead_unit", "category", "jurisdiction").get(pk=demand.pk)
    html = render_rows([row], [COLUMNS.by_key[k] for k in ("number", "title", "lead_unit", "enterprise")],
                       {"detail_prefix": "/d/"})
    for label in ("编号", "标题", "主办单位", "企业"):
        assert f">{exported[label]}<" in html


def test_a_column_key_chosen_by_a_person_is_still_offered(world):
    # Saved choices and export jobs keep these keys: a rename would silently drop people's columns.
    assert {"number", "title", "enterprise", "category", "channel", "jurisdiction", "lead_unit", "state",
            "next_due", "resolve_due", "tier", "outcome", "evaluation", "received_at"} <= set(LEDGER_TABLE.by_key)
    assert {"credit_code", "co_units", "content", "reply"} <= set(COLUMNS.by_key)


def test_another_list_declares_its_columns_from_the_registry_plus_its_own(world, demand, tmp_path):
    extra = Column("reporter", "反映人", ("reporter_name", "reporter_phone"),
                   lambda r: f"{r['reporter_name']} {r['reporter_phone']}".strip())
    own = COLUMNS.extend(extra, only=["number", "title", "state"], default=["number", "reporter"])
    assert own.keys() == ["number", "title", "state", "reporter"]
    assert [c.key for c in own.chosen()] == ["number", "reporter"]
    out = BytesIO()
    assert write_xlsx(Demand.objects.order_by("id"), own.pick(["title", "reporter"]), out, sheet_title="清单") == 1
    sheet = load_workbook(BytesIO(out.getvalue()))["清单"]
    assert [c.value for c in sheet[1]] == ["标题", "反映人"]
    assert sheet.cell(row=2, column=1).value == demand.title
    html = render_rows([demand], own.pick(["reporter"]))
    assert demand.reporter_name in html


def test_a_set_refuses_two_columns_with_one_key_and_defaults_it_does_not_hold():
    column = COLUMNS.by_key["number"]
    with pytest.raises(ValueError, match="share a key"):
        ColumnSet([column, column], default=["number"])
    with pytest.raises(ValueError, match="not in the set"):
        ColumnSet([column], default=["title"])


def test_a_page_prepared_for_its_columns_renders_them_in_one_query(world, demand, django_assert_num_queries):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    events = Column("events", "办理记录数", ("event_count",), lambda r: r["event_count"],
                    annotate={"event_count": lambda: Count("events")})
    columns = [*LEDGER_TABLE.columns, COLUMNS.by_key["credit_code"], events]
    with django_assert_num_queries(1):
        rows = list(prepare(Demand.objects.all(), columns))
        html = render_rows(rows, columns, {"detail_prefix": "/d/"})
    assert world.enterprise.credit_code in html and "<td>2</td>" in html  # received, dispatched
    out = BytesIO()
    write_xlsx(Demand.objects.all(), [COLUMNS.by_key["number"], events], out, sheet_title="清单")
    sheet = load_workbook(BytesIO(out.getvalue())).active
    assert [c.value for c in sheet[2]] == [demand.number, 2]
