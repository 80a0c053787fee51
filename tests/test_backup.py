"""`manage.py backup` and `restore`: a round trip brings back every row, every file and an intact audit chain."""

import io
import json
import shutil
import struct
import tarfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from qinqing.audit.chain import verify_all
from qinqing.audit.models import AuditEntry
from qinqing.audit.services import record
from qinqing.demands import services
from qinqing.demands.models import Attachment, Channel, Demand
from qinqing.ops import services as ops
from qinqing.workbench.models import ExportJob

from .conftest import at, login


def png(seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixel = zlib.compress(bytes([0, seed % 256, 0, 0]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixel) + chunk(b"IEND", b""))


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def media_files() -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def demo_like_data(world) -> list[Demand]:
    """A few demands with photos, a dispatched one, an export file and audit entries: what a district has."""
    demands = []
    for n in range(3):
        demands.append(services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=f"厂区道路破损{n}",
            content="请求修复", received_at=at("2026-11-20 10:00"),
            attachments=[SimpleUploadedFile(f"现场照片{n}.png", png(n))]))
    services.dispatch_demand(world.dispatcher, demands[0], lead_unit=world.bureau, note="请尽快办理")
    job = ExportJob.objects.create(user=world.dispatcher, query="", status=ExportJob.Status.DONE, total_rows=3,
                                   done_rows=3)
    job.file.save("ledger.xlsx", ContentFile(b"PK\x03\x04 stand-in"), save=True)
    record("login", actor=world.dispatcher, target="dispatcher")
    record("export", actor=world.dispatcher, target="诉求台账", detail={"rows": 3})
    return demands


def round_trip(world, tmp_path):
    demands = demo_like_data(world)
    archive = tmp_path / "backups" / "qinqing.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    manifest = ops.read_manifest(archive)
    saved_counts, saved_files = table_counts(), media_files()
    # The backup's own audit entry is written after the copy: the live log has one more than the archive.
    assert saved_counts["audit_auditentry"] == manifest["counts"]["audit_auditentry"] + 1
    assert {t: n for t, n in saved_counts.items() if t != "audit_auditentry"} == \
        {t: n for t, n in manifest["counts"].items() if t != "audit_auditentry"}
    assert manifest["media"]["files"] == len(saved_files) == 4 and manifest["vendor"] == connection.vendor

    # Then things go wrong: attachments deleted with their files, a demand received after the backup.
    Attachment.objects.all().delete()
    ExportJob.objects.all().delete()
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "attachments")
    services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                            title="备份之后的诉求", content="恢复后不应存在", received_at=at("2026-12-01 10:00"))
    with connection.cursor() as cursor:  # as a later migration would
        cursor.execute("CREATE TABLE later_addition (id integer)")

    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)

    assert "已恢复，逐表行数和文件数与备份一致" in out.getvalue()
    restored = table_counts()
    assert {t: n for t, n in restored.items() if t != "audit_auditentry"} == \
        {t: n for t, n in manifest["counts"].items() if t != "audit_auditentry"}
    assert restored["audit_auditentry"] == manifest["counts"]["audit_auditentry"] + 1  # the restore's entry
    assert media_files() == saved_files
    assert not Demand.objects.filter(title="备份之后的诉求").exists()
    assert "later_addition" not in restored
    assert verify_all() == []
    entry = AuditEntry.objects.get(action="restore")
    assert entry.target == str(archive.resolve()) and entry.detail["backup_created_at"] == manifest["created_at"]
    # The restored attachment is downloadable again, through its view.
    photo = Attachment.objects.get(demand=demands[1])
    response = login(world.dispatcher).get(reverse("demands:attachment", args=[demands[1].number, photo.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == png(1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sqlite_backup_restores_every_row_file_and_the_audit_chain(world, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite round trip (online backup API); this run uses PostgreSQL")
    round_trip(world, tmp_path)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_postgresql_backup_restores_every_row_file_and_the_audit_chain(world, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL round trip (pg_dump/pg_restore); this run uses SQLite")
    round_trip(world, tmp_path)


# ---------------------------------------------------------------- refusals

def forged_archive(tmp_path: Path, **changes) -> Path:
    manifest = {"format": 1, "created_at": "2026-12-01T02:00:00+00:00", "app_version": "0.1.0",
                "vendor": connection.vendor, "database_file": "database.sqlite3",
                "migrations": ["demands.0001_initial"], "counts": {"demands_demand": 0},
                "media": {"files": 0, "bytes": 0}, **changes}
    path = tmp_path / "forged.tar.gz"
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def untouched(world):
    """What must still be there after a refused restore."""
    services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title="现有诉求",
                            content="不应被覆盖", received_at=at("2026-11-20 10:00"))
    yield
    assert Demand.objects.filter(title="现有诉求").exists()
    assert not AuditEntry.objects.filter(action="restore").exists()


def test_a_backup_of_the_other_database_vendor_is_refused(untouched, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    with pytest.raises(CommandError, match="这份备份来自 .* 数据库，当前使用的是 .*，不能直接恢复"):
        call_command("restore", str(forged_archive(tmp_path, vendor=other)), "--yes", stdout=io.StringIO())


def test_a_backup_from_a_newer_version_is_refused(untouched, tmp_path):
    archive = forged_archive(tmp_path, app_version="0.9.0",
                             migrations=["demands.0001_initial", "demands.9999_from_the_future"])
    with pytest.raises(CommandError, match="这份备份来自更新的版本（0.9.0）.*demands.9999_from_the_future.*请先升级程序"):
        call_command("restore", str(archive), "--yes", stdout=io.StringIO())


def test_a_restore_without_confirmation_changes_nothing(untouched, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nobody to ask
    with pytest.raises(CommandError, match="未确认：请加 --yes 参数"):
        call_command("restore", str(forged_archive(tmp_path)), stdout=io.StringIO())


def test_a_file_that_is_not_a_backup_is_refused(untouched, tmp_path):
    path = tmp_path / "photo.tar.gz"
    path.write_bytes(png(1))
    with pytest.raises(CommandError, match="photo.tar.gz 不是亲清的备份文件"):
        call_command("restore", str(path), "--yes", stdout=io.StringIO())


def test_a_backup_never_overwrites_an_earlier_one(world, tmp_path):
    existing = tmp_path / "old.tar.gz"
    existing.write_bytes(b"an earlier backup")
    with pytest.raises(CommandError, match="备份文件已存在"):
        call_command("backup", str(existing), stdout=io.StringIO())
    assert existing.read_bytes() == b"an earlier backup"
