"""The worker killed in the middle of a job: the job is run again, or finished by a periodic recovery, and
what it writes is there once — no urging, notice, enterprise or timeline entry missing or doubled.

A kill is simulated by raising SystemExit at a chosen point (it escapes every `except Exception`, as a
SIGKILL escapes everything); the job's transaction is rolled back as the database rolls back a dead
connection's. bench/kill_worker.py does the same with the real consumer and SIGKILL.
"""

import datetime as dt

import pytest
import time_machine
from django.db.backends import utils as db_utils
from huey.contrib.djhuey import HUEY

from qinqing.demands import services
from qinqing.demands.models import Channel, DemandEvent, Urging
from qinqing.notifications.models import Notification, Preference, SmsMessage
from qinqing.notifications.services import deliver_overdue_events, notify_sweep
from tests.conftest import NOW, at


def later(minutes: float):
    return time_machine.travel(NOW + dt.timedelta(minutes=minutes), tick=True)


class Killed(SystemExit):
    """The worker's death, as the job sees it: nothing after this line runs."""


@pytest.fixture
def worker_down():
    """Tasks queued on commit are not run (their worker is gone); the catch-up must find the work."""
    HUEY.immediate = False
    yield
    HUEY.immediate = True


def overdue_demands(world, n: int) -> list:
    """`n` demands dispatched to the bureau long ago and never contacted: each is overdue at 联系企业."""
    demands = []
    with services.notifications_suppressed():
        for i in range(n):
            d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                        title=f"超期未联系{i}", content="企业反映的问题至今无人联系。",
                                        category=world.hiring, received_at=at("2026-11-02 10:00"))
            demands.append(services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau))
    return demands


def kill_at(monkeypatch, fragment: str):
    """Kill the worker when it sends the first statement containing `fragment`."""
    execute = db_utils.CursorWrapper.execute

    def dying(self, sql, params=None):
        if fragment in sql:
            raise Killed(f"killed before: {fragment}")
        return execute(self, sql, params)

    monkeypatch.setattr(db_utils.CursorWrapper, "execute", dying)


# ---------------------------------------------------------------- the overdue sweep

def test_a_sweep_killed_midway_leaves_nothing_and_its_rerun_urges_each_demand_once(world, monkeypatch):
    demands = overdue_demands(world, 5)
    kill_at(monkeypatch, "INSERT INTO demands_demandevent")  # the urgings are written, their entries not yet
    with pytest.raises(Killed):
        services.urge_overdue()
    monkeypatch.undo()
    assert not Urging.objects.exists() and not DemandEvent.objects.filter(verb="urge").exists()
    assert services.urge_overdue() == 5
    assert services.urge_overdue() == 0, "a rerun the same day writes nothing"
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=True):
        assert services.urge_overdue() == 0, "nor the next day: one urging per stage and deadline"
    for d in demands:
        assert Urging.objects.filter(demand=d).count() == 1
        assert DemandEvent.objects.filter(demand=d, verb="urge").count() == 1


def test_a_sweep_whose_worker_died_before_telling_anyone_is_told_once_by_the_catch_up(world, worker_down):
    world.handler.phone = "13800138001"
    world.handler.save(update_fields=["phone"])
    Preference.objects.create(user=world.handler, by_sms=True)
    demands = overdue_demands(world, 4)
    assert services.urge_overdue() == 4  # committed; deliver_sweep never ran
    assert not Notification.objects.exists()
    assert DemandEvent.objects.filter(verb="urge", awaiting_delivery=True).count() == 4
    assert deliver_overdue_events() == 0  # not yet a minute old: the sweep's own task may still come
    with later(2):
        assert deliver_overdue_events() == 1  # one sweep, delivered as the sweep would have been
        assert deliver_overdue_events() == 0
    members = sorted([world.handler.pk, world.head.pk])
    for d in demands:
        assert sorted(Notification.objects.filter(demand=d, event__verb="urge")
                      .values_list("recipient", flat=True)) == members
    assert not DemandEvent.objects.filter(awaiting_delivery=True).exists()
    assert SmsMessage.objects.filter(recipient=world.handler).count() == 1  # one digest, not one per demand
    assert "4件诉求超期" in SmsMessage.objects.get(recipient=world.handler).text
    sweep = Urging.objects.values_list("sweep", flat=True).first()
    assert notify_sweep(sweep) == 0  # the original task, arriving late, sends nothing again
    assert Notification.objects.filter(event__verb="urge").count() == 4 * len(members)
    assert SmsMessage.objects.filter(recipient=world.handler).count() == 1


def test_a_sweep_delivered_normally_is_not_delivered_again(world, django_capture_on_commit_callbacks):
    overdue_demands(world, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.urge_overdue() == 3
    told = Notification.objects.filter(event__verb="urge").count()
    assert told == 6 and not DemandEvent.objects.filter(awaiting_delivery=True).exists()
    with later(2):
        assert deliver_overdue_events() == 0
    assert Notification.objects.filter(event__verb="urge").count() == told


def test_a_quiet_sweep_of_loaded_history_is_never_delivered(world, worker_down):
    overdue_demands(world, 2)
    with services.notifications_suppressed():
        assert services.urge_overdue() == 2
    with later(10):
        assert deliver_overdue_events() == 0
    assert not Notification.objects.exists()


# ---------------------------------------------------------------- the registry import

ROWS = 30


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 10 rows, so that a 30-row file is checked and written in three."""
    from qinqing.enterprises import importer

    monkeypatch.setattr(importer, "BATCH", 10)


def confirmed_job(world, tmp_path, rows=ROWS):
    """A checked, confirmed import of `rows` new enterprises whose task has not run yet."""
    from django.core.files import File

    from qinqing.enterprises import services as registry
    from qinqing.enterprises.models import ImportJob
    from tests.test_registry_import import good_row, workbook

    path = workbook(tmp_path, [good_row(n) for n in range(1, rows + 1)])
    job = ImportJob(original_name="名单.xlsx", uploaded_by=world.admin)
    with path.open("rb") as fh:
        job.file.save("kill.xlsx", File(fh), save=False)
    job.save()
    assert registry.check_import_job(job.pk).status == ImportJob.Status.READY
    return registry.confirm_import(world.admin, job.pk)  # on_commit is not run here: the task is not queued


def file_rows():
    """Enterprises of the file (their credit codes), events and figures written for them."""
    from qinqing.enterprises.models import Enterprise, EnterpriseEvent, YearlyFigures
    from tests.test_registry_import import code

    codes = [code(n) for n in range(1, ROWS + 1)]
    return (Enterprise.objects.filter(credit_code__in=codes).count(),
            len(set(Enterprise.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))),
            EnterpriseEvent.objects.filter(enterprise__credit_code__in=codes, verb="import_create").count(),
            YearlyFigures.objects.filter(enterprise__credit_code__in=codes).count())


def test_an_import_killed_in_its_second_batch_is_rerun_by_the_recovery_and_written_once(
        world, tmp_path, small_batches, monkeypatch):
    from qinqing.enterprises import services as registry
    from qinqing.enterprises.importer import Importer
    from qinqing.enterprises.models import ImportJob

    job = confirmed_job(world, tmp_path)
    write_batch, batches = Importer._write_batch, []

    def dying(self, plans, now):
        batches.append(len(plans))
        if len(batches) == 2:
            raise Killed("the worker dies in the middle of the import")
        return write_batch(self, plans, now)

    monkeypatch.setattr(Importer, "_write_batch", dying)
    with pytest.raises(Killed):
        registry.run_import_job(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.attempts == 1
    assert file_rows() == (0, 0, 0, 0), "the first batch was rolled back with the rest"
    assert registry.recover_stuck_imports() == [], "a job with a recent sign of life is left alone"
    with later(11):
        assert registry.recover_stuck_imports() == [job.pk]  # queued again (run inline here: Huey immediate)
    job.refresh_from_db()
    assert (job.status, job.created_count, job.updated_count, job.attempts) == (ImportJob.Status.DONE, ROWS, 0, 2)
    assert file_rows() == (ROWS, ROWS, ROWS, ROWS)
    assert registry.run_import_job(job.pk).status == ImportJob.Status.DONE  # a late duplicate task
    with later(30):
        assert registry.recover_stuck_imports() == []
    assert file_rows() == (ROWS, ROWS, ROWS, ROWS)


def test_a_run_overtaken_by_the_recovery_writes_nothing_of_its_own(world, tmp_path, small_batches, monkeypatch):
    """The first run only stalled (no heartbeat for 11 minutes) and was not dead: the recovery's run
    finished the job; when the first one wakes up its claim is gone and it writes nothing."""
    from qinqing.enterprises import services as registry
    from qinqing.enterprises.importer import Importer
    from qinqing.enterprises.models import ImportJob

    job = confirmed_job(world, tmp_path)
    check, stalled = Importer.check, []

    def stalling(self):
        report = check(self)
        if not stalled:
            stalled.append(True)
            with later(11):
                assert registry.recover_stuck_imports() == [job.pk]  # the second run, to its end
        return report

    monkeypatch.setattr(Importer, "check", stalling)
    first = registry.run_import_job(job.pk)
    assert (first.status, first.attempts, first.created_count) == (ImportJob.Status.DONE, 2, ROWS)
    assert file_rows() == (ROWS, ROWS, ROWS, ROWS), "one enterprise, entry and figure row per code"


def test_a_check_killed_midway_is_checked_again_from_the_start(world, tmp_path, small_batches, monkeypatch):
    from django.core.files import File

    from qinqing.enterprises import services as registry
    from qinqing.enterprises.importer import Importer
    from qinqing.enterprises.models import ImportJob
    from tests.test_registry_import import good_row, workbook

    path = workbook(tmp_path, [good_row(n) for n in range(1, ROWS + 1)])
    job = ImportJob(original_name="名单.xlsx", uploaded_by=world.admin)
    with path.open("rb") as fh:
        job.file.save("kill.xlsx", File(fh), save=False)
    job.save()
    finish, batches = Importer._finish_batch, []

    def dying(self, batch):
        batches.append(len(batch))
        if len(batches) == 2:
            raise Killed("the worker dies while checking")
        return finish(self, batch)

    monkeypatch.setattr(Importer, "_finish_batch", dying)
    with pytest.raises(Killed):
        registry.check_import_job(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKING and job.done_rows == 10  # its progress, a heartbeat
    with later(11):
        assert registry.recover_stuck_imports() == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.valid_rows, job.new_rows) == (ImportJob.Status.READY, ROWS, ROWS)
    assert file_rows() == (0, 0, 0, 0), "checking writes nothing"


def test_an_import_that_kills_its_worker_three_times_is_marked_failed(world, tmp_path, small_batches, monkeypatch):
    from qinqing.enterprises import services as registry
    from qinqing.enterprises.importer import Importer
    from qinqing.enterprises.models import ImportJob

    job = confirmed_job(world, tmp_path)

    def dying(self, plans, now):
        raise Killed("this file kills the worker every time")

    monkeypatch.setattr(Importer, "_write_batch", dying)
    with pytest.raises(Killed):
        registry.run_import_job(job.pk)
    for minutes in (11, 22):
        with later(minutes), pytest.raises(Killed):
            registry.recover_stuck_imports()
    with later(33):
        assert registry.recover_stuck_imports() == []
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.FAILED, 3)
    assert job.message.startswith("导入多次中断，未导入任何数据")
    assert file_rows() == (0, 0, 0, 0)
