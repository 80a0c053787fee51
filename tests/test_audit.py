"""安全审计: the administrative audit log records who did what, and the hash chains over it and the demand
timeline show a row altered, slipped in or removed with raw SQL."""

import threading
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from qinqing.accounts.models import Role
from qinqing.audit.chain import GENESIS, chains, row_hash, seal, verify, verify_all
from qinqing.audit.models import AuditEntry, ChainHead
from qinqing.audit.services import record
from qinqing.demands import services
from qinqing.demands.models import Channel, DemandEvent

from .conftest import at, login

EVENTS = DemandEvent._meta.db_table


def _receive(world, count: int) -> list[int]:
    """`count` demands received, one timeline entry each; their entries' ids."""
    for i in range(count):
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title=f"用工需求第{i}批", content="企业扩产后缺少操作工，希望协助对接职业院校。",
                                category=world.hiring, received_at=at("2026-09-30 10:00"))
    return list(DemandEvent.objects.order_by("id").values_list("id", flat=True))


def _after_gap(demand, pk: int) -> None:
    """An entry with id `pk`, leaving a gap below it as a rolled-back insert does on PostgreSQL; the id
    sequence moves past it as it would have (the sealer seals up to the sequence's value)."""
    DemandEvent.objects.create(id=pk, demand=demand, verb="note", note="正常记录")
    if connection.vendor == "postgresql":
        _sql("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [EVENTS, pk])


def _sql(statement: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _verify_command() -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


# --- the chain -------------------------------------------------------------------------------------------

def test_new_timeline_entries_are_written_unsealed_and_the_sealer_chains_them_in_id_order(world):
    ids = _receive(world, 3)
    assert set(DemandEvent.objects.values_list("chain_hash", flat=True)) == {None}

    assert seal(EVENTS) == 3
    rows = list(DemandEvent.objects.order_by("id").values_list("id", "chain_prev", "chain_hash"))
    assert [r[0] for r in rows] == ids
    assert rows[0][1] == GENESIS
    assert rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]
    assert ChainHead.objects.get(table=EVENTS).last_id == ids[-1]
    assert verify_all() == []


def test_sealing_again_changes_nothing_and_continues_from_the_head(world):
    _receive(world, 2)
    seal(EVENTS)
    before = list(DemandEvent.objects.order_by("id").values_list("chain_prev", "chain_hash"))
    assert seal(EVENTS) == 0
    assert list(DemandEvent.objects.order_by("id").values_list("chain_prev", "chain_hash")) == before

    later = _receive(world, 1)[-1]
    assert seal(EVENTS) == 1
    assert DemandEvent.objects.get(pk=later).chain_prev == before[-1][1]
    assert verify_all() == []


def test_the_delivery_flag_the_notifications_clear_is_not_part_of_the_hash(world):
    ids = _receive(world, 2)
    seal(EVENTS)
    _sql(f"UPDATE {EVENTS} SET awaiting_delivery = %s WHERE id = %s", [True, ids[0]])  # noqa: S608
    assert verify_all() == []


def test_every_column_of_a_chained_table_is_hashed_or_excluded_with_a_reason():
    for table, chain in chains().items():
        columns = {f.attname for f in chain.model._meta.concrete_fields}
        assert columns - {"chain_prev", "chain_hash"} == set(chain.content) | set(chain.excluded), table


def test_a_timeline_entry_changed_with_raw_sql_is_reported_as_altered(world):
    ids = _receive(world, 4)
    seal(EVENTS)
    _sql(f"UPDATE {EVENTS} SET note = %s WHERE id = %s", ["已办结（篡改）", ids[1]])  # noqa: S608

    assert [(p.table, p.row_id, p.kind) for p in verify_all()] == [(EVENTS, ids[1], "altered")]
    code, out = _verify_command()
    assert code == 1
    assert f"#{ids[1]} [altered]" in out and "封存后被修改过" in out


def test_a_timeline_entry_deleted_with_raw_sql_is_reported_at_the_next_entry(world):
    ids = _receive(world, 4)
    seal(EVENTS)
    _sql(f"DELETE FROM {EVENTS} WHERE id = %s", [ids[1]])  # noqa: S608

    assert [(p.row_id, p.kind) for p in verify_all()] == [(ids[2], "deleted")]
    code, out = _verify_command()
    assert code == 1 and f"#{ids[2]} [deleted]" in out and f"第 {ids[0]} 号与第 {ids[2]} 号之间" in out


def test_deleting_the_newest_sealed_entries_is_reported_against_the_head(world):
    ids = _receive(world, 3)
    seal(EVENTS)
    _sql(f"DELETE FROM {EVENTS} WHERE id = %s", [ids[-1]])  # noqa: S608

    assert [(p.row_id, p.kind) for p in verify_all()] == [(ids[-1], "deleted")]


def test_an_entry_inserted_with_raw_sql_in_the_middle_of_the_chain_is_reported_as_inserted(world, demand):
    first = DemandEvent.objects.get().pk
    _after_gap(demand, first + 10)
    seal(EVENTS)
    _sql(f"INSERT INTO {EVENTS} (id, demand_id, verb, from_state, to_state, note, data, internal, created_at, "  # noqa: S608
         "awaiting_delivery) VALUES (%s, %s, 'reply', '', '', '补录的答复', '{}', %s, %s, %s)",
         [first + 5, demand.pk, False, at("2026-10-01 09:00"), False])

    assert [(p.row_id, p.kind) for p in verify_all()] == [(first + 5, "inserted")]
    code, out = _verify_command()  # verify seals first: the slipped-in row must not be sealed into the chain
    assert code == 1 and f"#{first + 5} [inserted]" in out
    assert DemandEvent.objects.get(pk=first + 5).chain_hash is None


def test_an_inserted_entry_given_forged_chain_values_is_still_reported_as_inserted(world, demand):
    first = DemandEvent.objects.get().pk
    _after_gap(demand, first + 10)
    seal(EVENTS)
    prev = DemandEvent.objects.get(pk=first).chain_hash
    content = (first + 5, demand.pk, None, "reply", "", "", "补录的答复", {}, False, at("2026-10-01 09:00"))
    _sql(f"INSERT INTO {EVENTS} (id, demand_id, verb, from_state, to_state, note, data, internal, created_at, "  # noqa: S608
         "awaiting_delivery, chain_prev, chain_hash) VALUES (%s, %s, 'reply', '', '', '补录的答复', '{}', %s, %s, "
         "%s, %s, %s)", [first + 5, demand.pk, False, at("2026-10-01 09:00"), False, prev, row_hash(prev, content)])

    assert [(p.row_id, p.kind) for p in verify_all()] == [(first + 5, "inserted")]


def test_an_audit_entry_changed_with_raw_sql_is_reported_too(world):
    entries = [record("export", actor=world.dispatcher, target="诉求台账", detail={"rows": n}) for n in (1, 2)]
    seal(AuditEntry._meta.db_table)
    _sql(f"UPDATE {AuditEntry._meta.db_table} SET actor_label = %s WHERE id = %s",  # noqa: S608
         ["someone-else", entries[0].pk])
    assert [(p.table, p.row_id, p.kind) for p in verify_all()] == [
        (AuditEntry._meta.db_table, entries[0].pk, "altered")]


def test_the_verify_command_reports_an_intact_chain_per_table(world):
    _receive(world, 2)
    record("login", actor=world.admin)
    code, out = _verify_command()
    assert code == 0
    assert f"{EVENTS}：审计链完整：2 条" in out
    assert f"{AuditEntry._meta.db_table}：审计链完整：1 条" in out


PG_ONLY = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="SQLite runs one writer at a time: sealers and writers cannot overlap there")


@PG_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sealers_at_once_chain_each_row_once(world):
    _receive(world, 30)
    results, errors = [], []

    def run():
        try:
            results.append(seal(EVENTS, chunk=7))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 30
    assert verify(EVENTS) == (30, [])


@PG_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_entry_still_being_written_is_not_overtaken_by_the_sealer(world, demand):
    from django.db import transaction

    written, release = threading.Event(), threading.Event()
    late: list[int] = []

    def slow_writer():
        try:
            with transaction.atomic():
                late.append(DemandEvent.objects.create(demand=demand, verb="note", note="慢事务").pk)
                written.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(timeout=30)
    newer = DemandEvent.objects.create(demand=demand, verb="note", note="后来的记录").pk  # committed, higher id
    assert newer > late[0]
    assert seal(EVENTS) == 0  # the in-flight insert holds the table: nothing is sealed past it
    release.set()
    thread.join(timeout=30)

    assert seal(EVENTS) == 3
    assert verify(EVENTS) == (3, [])


# --- what the audit log records ------------------------------------------------------------------------

def _entries(action: str):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_a_login_and_a_logout_are_each_recorded_once_with_the_person_and_address(world):
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post("/login/", {"username": "dispatcher", "password": "pw-dispatcher"})
    client.post("/logout/")

    (entry,) = _entries("login")
    assert (entry.actor, entry.actor_label, entry.ip) == (world.dispatcher, "dispatcher（赵调度）", "10.1.2.3")
    (out,) = _entries("logout")
    assert out.actor == world.dispatcher and out.action_label == "退出登录"


def test_a_wrong_password_is_recorded_with_the_login_name_tried_and_no_actor(world):
    Client(REMOTE_ADDR="10.1.2.4").post("/login/", {"username": "dispatcher", "password": "wrong-password"})
    (entry,) = _entries("login_failed")
    assert (entry.actor, entry.target, entry.ip, entry.detail) == (None, "dispatcher", "10.1.2.4", {})
    assert _entries("login") == []


def test_the_failure_that_locks_an_account_is_recorded_once_as_a_lockout(world):
    for _ in range(6):  # the sixth is refused while locked: one more failure, no second lockout
        Client().post("/login/", {"username": "dispatcher", "password": "wrong-password"})
    (lockout,) = _entries("locked_out")
    assert lockout.target == "dispatcher" and lockout.detail == {"failures": 5}
    assert len(_entries("login_failed")) == 6
    assert _entries("login_failed")[-1].detail == {"locked": True}


class _FormFields(HTMLParser):
    """The fields of the page's main form as a browser would submit them unchanged."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][-1] += data.removeprefix("\n")


def _admin_form(client, url: str) -> dict:
    """The admin change form's data as the browser would post it back unchanged, inlines included."""
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormFields()
    parser.feed(page.content.decode())
    return {k: v if len(v) != 1 else v[0] for k, v in parser.data.items() if "__prefix__" not in k}


def test_granting_a_role_in_the_admin_is_recorded_as_a_role_change_with_the_roles_now_held(world):
    client = login(world.admin)
    url = f"/admin/accounts/user/{world.handler.pk}/change/"
    data = _admin_form(client, url)
    prefix = "role_grants"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-{total}-role"] = Role.SUPERVISOR
    data[f"{prefix}-TOTAL_FORMS"] = total + 1
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response

    (entry,) = _entries("role_changed")
    assert entry.actor == world.admin and entry.target == "用户 钱承办"
    assert entry.detail["roles"] == ["handler", "supervisor"]
    assert entry.detail["is_superuser"] is False and "角色授予" in entry.detail["changes"]


def test_making_someone_superuser_in_the_admin_is_a_role_change_but_a_new_phone_number_is_not(world):
    client = login(world.admin)
    url = f"/admin/accounts/user/{world.handler.pk}/change/"
    data = _admin_form(client, url)
    data["phone"] = "13900000009"
    assert client.post(url, data).status_code == 302
    assert [e.action for e in AuditEntry.objects.exclude(action="login")] == ["account_changed"]

    data = _admin_form(client, url)
    data["is_superuser"] = "on"
    assert client.post(url, data).status_code == 302
    (entry,) = _entries("role_changed")
    assert entry.detail["is_superuser"] is True


def test_a_deadline_rule_changed_in_the_admin_is_recorded_as_a_configuration_change(world):
    from qinqing.demands.models import SlaRule

    rule = SlaRule.objects.first()
    client = login(world.admin)
    url = f"/admin/demands/slarule/{rule.pk}/change/"
    data = _admin_form(client, url)
    data["dispatch_days"] = 2
    assert client.post(url, data).status_code == 302

    (entry,) = _entries("config_changed")
    assert entry.actor == world.admin and entry.detail["operation"] == "修改"
    assert entry.detail["model"] == "demands.slarule" and entry.target.endswith(str(rule))


def test_the_admin_offers_no_way_to_add_change_or_delete_audit_or_timeline_rows(world, demand):
    record("export", actor=world.dispatcher, target="诉求台账")
    entry = AuditEntry.objects.get()
    event = DemandEvent.objects.first()
    client = login(world.admin)
    for model, pk in (("audit/auditentry", entry.pk), ("demands/demandevent", event.pk)):
        listing = client.get(f"/admin/{model}/")
        assert listing.status_code == 200
        assert b"delete_selected" not in listing.content
        assert client.get(f"/admin/{model}/add/").status_code == 403
        page = client.get(f"/admin/{model}/{pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert client.post(f"/admin/{model}/{pk}/change/", {"note": "改"}).status_code == 403
        assert client.get(f"/admin/{model}/{pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditentry/?action=export").status_code == 200
    assert AuditEntry.objects.get(pk=entry.pk).target == "诉求台账"


def test_a_ledger_export_is_recorded_once_with_its_filters_and_row_count(world, demand):
    from django.urls import reverse

    client = login(world.dispatcher)
    response = client.get(reverse("workbench:export"), {"state": "received", "q": "招聘"})
    assert response.status_code == 200

    (entry,) = _entries("export")
    assert entry.actor == world.dispatcher and entry.target == "诉求台账"
    assert entry.detail["filters"] == {"state": "received", "q": "招聘"}
    assert entry.detail["rows"] == 1


def test_a_large_export_is_recorded_when_its_background_job_has_written_the_rows(
        world, demand, settings, django_capture_on_commit_callbacks):
    from django.urls import reverse

    settings.QINQING_EXPORT_SYNC_ROWS = 1
    _receive(world, 2)
    client = login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("workbench:export"), {"channel": Channel.VISIT})
    (entry,) = _entries("export")
    assert entry.actor == world.dispatcher and entry.detail["rows"] == 3
    assert entry.detail["filters"] == {"channel": Channel.VISIT}


def test_a_list_export_and_a_briefing_download_are_recorded(world, demand):
    from django.urls import reverse

    from qinqing.demands.lists import LISTS
    from qinqing.demands.models import Demand

    client = login(world.admin)
    assert client.get(reverse("demands:list", args=["problems"]), {"format": "xlsx"}).status_code == 200
    (entry,) = _entries("export")
    assert entry.actor == world.admin and entry.detail["list"] == "problems" and "问题清单" in entry.target
    assert entry.detail["rows"] == LISTS["problems"].rows(Demand.objects.visible_to(world.admin)).count() == 1

    response = client.get(reverse("reports:briefing"), {"jurisdiction": world.district.code, "format": "docx"})
    assert response.status_code == 200
    last = _entries("export")[-1]
    assert last.target == "简报（Word）" and last.detail["filters"]["jurisdiction"] == world.district.code


def test_calendar_changes_are_recorded_once_each_as_configuration_changes(world):
    import datetime as dt

    from qinqing.workdays import services as calendar
    from qinqing.workdays.models import WorkdayOverride

    calendar.save_override(world.admin, WorkdayOverride(date=dt.date(2026, 12, 4), kind="holiday", note="临时调休"))
    calendar.import_workdays("date,kind\n2026-12-10,holiday\n2026-12-17,holiday\n", user=world.admin)
    calendar.delete_overrides(world.admin, WorkdayOverride.objects.filter(date=dt.date(2026, 12, 4)))

    entries = _entries("config_changed")
    assert [(e.actor, e.target, e.detail["operation"]) for e in entries] == [
        (world.admin, "工作日历", "新增"), (world.admin, "工作日历", "导入"), (world.admin, "工作日历", "删除")]
    assert entries[0].detail["date"] == "2026-12-04" and entries[0].detail["changed_days"] == ["2026-12-04"]
    assert entries[1].detail["rows"] == 2 and entries[2].detail["dates"] == ["2026-12-04"]


def test_a_calendar_day_added_in_the_admin_is_recorded_once(world):
    client = login(world.admin)
    response = client.post("/admin/workdays/workdayoverride/add/",
                           {"date": "2026-12-04", "kind": "holiday", "note": "临时调休"})
    assert response.status_code == 302
    assert [e.detail["operation"] for e in _entries("config_changed")] == ["新增"]


def test_assigning_a_contact_duty_that_grants_the_specialist_role_is_recorded_as_a_role_change(world):
    from qinqing.visits import services as duties
    from qinqing.visits.models import Duty, Level

    cadre = duties.register_cadre(world.dispatcher, world.handler, level=Level.SPECIALIST,
                                  jurisdiction=world.district)
    duties.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST)
    duties.assign_contact(world.dispatcher, world.neighbour, cadre, duty=Duty.SPECIALIST)  # holds it already

    (entry,) = _entries("role_changed")
    assert entry.actor == world.dispatcher
    assert entry.detail == {"granted": "specialist", "users": [world.handler.pk], "reason": "分配包联"}


def test_the_minute_ly_task_seals_what_was_written_since_its_last_run(world):
    from qinqing.audit.tasks import seal_audit_chains

    _receive(world, 2)
    record("login", actor=world.admin)
    assert seal_audit_chains.call_local() == {EVENTS: 2, AuditEntry._meta.db_table: 1}
    assert seal_audit_chains.call_local() == {EVENTS: 0, AuditEntry._meta.db_table: 0}


def test_the_registry_and_the_contact_duties_exports_are_recorded_with_filters_and_rows(world):
    from django.urls import reverse

    client = login(world.dispatcher)
    assert client.get(reverse("enterprises:export"), {"q": "深圳市"}).status_code == 200
    assert client.get(reverse("visits:assignments"), {"format": "xlsx", "duty": "specialist"}).status_code == 200

    registry, duties = _entries("export")
    assert (registry.target, registry.actor, registry.detail["filters"]) == ("企业名单", world.dispatcher, {"q": "深圳市"})
    assert registry.detail["rows"] == 2  # the district's two; 新安物流 is in another district
    assert (duties.target, duties.detail) == ("包联关系表", {"filters": {"duty": "specialist"}, "rows": 0})
