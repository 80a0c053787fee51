"""Export the ledger view to Excel: what the file looks like, who may have it, small now and large later."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.demands import services
from qinqing.demands.models import Channel
from qinqing.workbench import services as workbench
from qinqing.workbench.models import ExportJob
from tests.conftest import at, login

EXPORT = reverse("workbench:export")


def receive(world, title, **kwargs):
    kwargs.setdefault("enterprise", world.enterprise)
    return services.receive_demand(world.dispatcher, channel=Channel.VISIT, title=title,
                                   content=f"{title}，请协助解决。", category=world.hiring,
                                   received_at=at("2026-10-12 09:30"), **kwargs)


def book_of(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return load_workbook(BytesIO(b"".join(response) if hasattr(response, "streaming_content")
                                 else response.content))


def test_a_small_view_downloads_at_once_as_a_well_formed_workbook(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    response = login(world.dispatcher).get(EXPORT)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    sheet = book_of(response)["诉求台账"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["编号", "标题", "企业"] and "受理时间" in headers and "当前环节期限" in headers
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["B"].width >= 30
    assert sheet[1][0].font.bold
    row = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    assert row["编号"].value == demand.number
    assert row["主办单位"].value == "南山区人力资源局"
    assert isinstance(row["受理时间"].value, dt.datetime) and row["受理时间"].value == dt.datetime(2026, 9, 30, 10, 0)
    assert row["受理时间"].number_format == "yyyy-mm-dd hh:mm"
    assert isinstance(row["当前环节期限"].value, dt.datetime) and row["当前环节期限"].number_format == "yyyy-mm-dd"
    job = ExportJob.objects.get()
    assert (job.user, job.status, job.total_rows) == (world.dispatcher, ExportJob.Status.DONE, 1)


def test_the_export_follows_the_filter_and_the_chosen_columns(world, demand):
    receive(world, "融资担保费用高")
    client = login(world.dispatcher)
    sheet = book_of(client.get(EXPORT, {"q": "融资", "cols": ["number", "title", "resolve_due"]})).active
    assert [c.value for c in sheet[1]] == ["编号", "标题", "办结期限"]
    assert [r[1].value for r in sheet.iter_rows(min_row=2)] == ["融资担保费用高"]


def test_all_columns_include_the_content_and_a_formula_is_kept_as_text(world):
    receive(world, "=HYPERLINK(\"http://x\")")
    sheet = book_of(login(world.dispatcher).get(EXPORT, {"all_columns": "1"})).active
    headers = [c.value for c in sheet[1]]
    assert "诉求内容" in headers and "统一社会信用代码" in headers
    title = sheet.cell(row=2, column=headers.index("标题") + 1)
    assert title.data_type == "s" and title.value.startswith("=HYPERLINK")


def test_an_export_never_holds_a_demand_its_author_cannot_see(world, demand):
    services.receive_demand(world.other_dispatcher, enterprise=world.other_enterprise, channel=Channel.VISIT,
                            title="宝安区的诉求", content="外区", category=world.hiring)
    sheet = book_of(login(world.dispatcher).get(EXPORT)).active
    titles = [r[1].value for r in sheet.iter_rows(min_row=2)]
    assert titles == ["技术工人招聘困难"]


def test_enterprise_accounts_get_404_for_the_export(world, demand):
    assert login(world.owner).get(EXPORT).status_code == 404


def test_a_bad_filter_is_refused_instead_of_exporting_everything(world, demand):
    response = login(world.dispatcher).get(EXPORT, {"received_from": "2026-10-10", "received_to": "2026-10-01"},
                                           follow=True)
    assert "筛选条件有误" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_a_large_view_becomes_a_background_job_with_progress_and_a_download(
        world, demand, settings, django_capture_on_commit_callbacks):
    settings.QINQING_EXPORT_SYNC_ROWS = 2
    for i in range(3):
        receive(world, f"批量诉求{i}")
    client = login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("workbench:export_job", args=[job.pk])
    assert (job.status, job.total_rows, job.done_rows) == (ExportJob.Status.DONE, 4, 4)
    page = client.get(response.url).content.decode()
    assert "下载 Excel 文件" in page and "100%" in page
    download = client.get(reverse("workbench:download", args=[job.pk]))
    sheet = book_of(download).active
    assert sheet.max_row == 5
    assert "我的导出" in client.get(reverse("workbench:exports")).content.decode()


def test_a_job_in_progress_refreshes_itself_and_shows_how_far_it_got(world, demand, settings):
    job = ExportJob.objects.create(user=world.dispatcher, total_rows=10_000, done_rows=2_500,
                                   status=ExportJob.Status.RUNNING)
    page = login(world.dispatcher).get(reverse("workbench:export_job", args=[job.pk]),
                                       HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in page and "已导出2500条" in page and 'aria-valuenow="25"' in page


def test_someone_elses_export_is_a_404(world, demand, settings, django_capture_on_commit_callbacks):
    settings.QINQING_EXPORT_SYNC_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        login(world.dispatcher).get(EXPORT)
    job = ExportJob.objects.get()
    for outsider in (world.handler, world.other_dispatcher, world.owner):
        client = login(outsider)
        assert client.get(reverse("workbench:export_job", args=[job.pk])).status_code == 404
        assert client.get(reverse("workbench:download", args=[job.pk])).status_code == 404


def test_a_job_is_run_once_even_if_two_workers_pick_it_up(world, demand, settings):
    settings.QINQING_EXPORT_SYNC_ROWS = 0
    job, data = workbench.export_ledger(world.dispatcher, query="", columns=["number"])
    assert data is None
    first = workbench.run_export_job(job.pk)
    name = first.file.name
    second = workbench.run_export_job(job.pk)
    assert second.status == ExportJob.Status.DONE and second.file.name == name


@pytest.mark.parametrize("rows", [3, 30])
def test_the_export_costs_the_same_number_of_queries_whatever_the_rows(world, rows, django_assert_max_num_queries):
    for i in range(rows):
        receive(world, f"诉求{i}")
    client = login(world.dispatcher)
    with django_assert_max_num_queries(12):
        assert client.get(EXPORT, {"cols": ["number", "title", "enterprise", "lead_unit"]}).status_code == 200


def test_a_view_downloaded_at_once_can_be_downloaded_again_from_my_exports(world, demand):
    client = login(world.dispatcher)
    first = client.get(EXPORT, {"cols": ["number", "title"]})
    job = ExportJob.objects.get()
    listing = client.get(reverse("workbench:exports")).content.decode()
    assert f'href="{reverse("workbench:download", args=[job.pk])}"' in listing and "已直接下载" not in listing
    again = client.get(reverse("workbench:download", args=[job.pk]))
    assert [c.value for c in book_of(again).active[2]] == [c.value for c in book_of(first).active[2]]
