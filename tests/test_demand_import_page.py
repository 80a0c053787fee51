"""The import page: a dispatcher uploads a sheet, sees it checked with a preview (or the errors and the error
list to download), confirms, and the demands are in the ledger; nothing is written before the confirmation."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qinqing.demands.models import Demand
from qinqing.transparency import imports
from qinqing.transparency.models import DemandImportJob

from .conftest import login
from .test_demand_import import HOTLINE_HEADERS, hotline_rows, sheet


def upload(client, path, capture):
    with capture(execute=True):
        return client.post(reverse("demands:import"), {"channel": "hotline", "file": SimpleUploadedFile(
            path.name, path.read_bytes())})


def test_a_dispatcher_uploads_previews_confirms_and_finds_the_demands_in_the_ledger(
        world, tmp_path, django_capture_on_commit_callbacks):
    client = login(world.dispatcher)
    response = upload(client, sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world)), django_capture_on_commit_callbacks)
    job = DemandImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("demands:import_job", args=[job.pk])
    assert job.status == "ready" and job.valid_rows == 4 and Demand.objects.count() == 0
    page = client.get(reverse("demands:import_job", args=[job.pk])).content.decode()
    assert "GD2026050001" in page and "确认导入 4 件诉求" in page and "工单编号 → 来源编号" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("demands:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 4 and Demand.objects.count() == 4
    assert login(world.other_dispatcher).get(reverse("demands:import_job", args=[job.pk])).status_code == 404


def test_a_sheet_with_errors_offers_the_error_list_and_cannot_be_confirmed(
        world, tmp_path, django_capture_on_commit_callbacks):
    rows = hotline_rows(world)
    rows[0][2] = ""
    client = login(world.dispatcher)
    upload(client, sheet(tmp_path, HOTLINE_HEADERS, rows), django_capture_on_commit_callbacks)
    job = DemandImportJob.objects.get()
    assert job.status == "invalid" and job.errors[0]["message"] == "必填" and job.errors[0]["header"] == "来电内容"
    errors = client.get(reverse("demands:import_errors", args=[job.pk]))
    assert errors.status_code == 200 and errors["Content-Disposition"].startswith("attachment")
    client.post(reverse("demands:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "invalid" and Demand.objects.count() == 0


def test_a_handler_has_no_import_page(world):
    assert login(world.handler).get(reverse("demands:import")).status_code == 404


def test_a_run_queued_twice_writes_once(world, tmp_path, django_capture_on_commit_callbacks):
    client = login(world.dispatcher)
    upload(client, sheet(tmp_path, HOTLINE_HEADERS, hotline_rows(world)), django_capture_on_commit_callbacks)
    job = DemandImportJob.objects.get()
    imports.confirm_demand_import(world.dispatcher, job)  # outside a capture: the queued run does not start
    assert imports.run_demand_import_job(job.pk).status == "done"
    assert imports.run_demand_import_job(job.pk).status == "done"
    assert Demand.objects.count() == 4
