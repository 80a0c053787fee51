"""备份与恢复: one .tar.gz holding the database, MEDIA_ROOT (attachments, imports, exports, circulars) and a
manifest that says what it holds.

The database copy is consistent while the product keeps running. SQLite: the online backup API copies the
pages under a read lock, so writers wait a moment and the copy is one committed state. PostgreSQL: a
REPEATABLE READ transaction exports its snapshot and `pg_dump --snapshot` dumps exactly what it sees; the
manifest's row counts are taken in the same snapshot (SQLite: from the copy), so a restore can prove it
brought back what was saved. Files are copied after the database, so a file uploaded meanwhile is in the
archive without its row: harmless, where the other order would leave rows without their files.

Restoring replaces the database and MEDIA_ROOT wholesale. It refuses an archive of the other database
vendor or one written by a newer version (a migration this code does not know), counts every table after
restoring and fails loudly if a count differs. Both write an entry in the audit log; the restore's entry
is written after the restore, on top of the restored chain.
"""

import datetime as dt
import getpass
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from qinqing.demands.errors import DomainError
from qinqing.lib import clock

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(DomainError):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


# --------------------------------------------------------------------------------------------- backup

def back_up(destination: Path | str, *, actor=None) -> dict:
    """备份: write the archive to `destination` (a .tar.gz) and return its manifest.

    The audit chains are sealed first, so the archive carries them whole; the audit entry is written once
    the archive is complete, under its final name.
    """
    from qinqing.audit.chain import seal_all
    from qinqing.audit.services import record

    destination = Path(destination).resolve()
    vendor = _vendor()
    if destination.exists():
        raise BackupError(f"备份文件已存在：{destination}。请换一个文件名，以免覆盖旧备份。")
    destination.parent.mkdir(parents=True, exist_ok=True)
    seal_all()
    with tempfile.TemporaryDirectory(prefix="qinqing-backup-", dir=destination.parent) as work:
        database = Path(work) / DATABASE_FILES[vendor]
        counts, migrations = (_copy_sqlite if vendor == "sqlite" else _dump_postgresql)(database)
        media_root = Path(settings.MEDIA_ROOT)
        files, size = _tree_size(media_root)
        manifest = {
            "format": FORMAT,
            "created_at": clock.now().isoformat(),
            "app_version": _app_version(),
            "vendor": vendor,
            "database_file": database.name,
            "migrations": migrations,
            "counts": counts,
            "media": {"files": files, "bytes": size},
        }
        (Path(work) / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(Path(work) / MANIFEST, arcname=MANIFEST)  # first, so a restore reads it at once
            archive.add(database, arcname=database.name)
            if media_root.is_dir():
                archive.add(media_root, arcname=MEDIA)
        os.replace(partial, destination)
    with transaction.atomic():
        record("backup", actor=actor, target=str(destination),
               detail={"vendor": vendor, "tables": len(counts), "rows": sum(counts.values()), "files": files,
                       "bytes": destination.stat().st_size, "operator": _operator()})
    return manifest


def _vendor() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"不支持备份 {connection.vendor} 数据库（仅支持 SQLite 和 PostgreSQL）。")
    return connection.vendor


def _copy_sqlite(target: Path) -> tuple[dict[str, int], list[str]]:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)  # one step: a consistent copy under a read lock
        cursor = copy.cursor()
        tables = [r[0] for r in cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        applied = cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name").fetchall()
        return _count(cursor.execute, tables, _quote_sqlite), [f"{app}.{name}" for app, name in applied]
    finally:
        copy.close()


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dump_postgresql(target: Path) -> tuple[dict[str, int], list[str]]:
    pg_dump = _pg_binary("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        # Must be the transaction's first statement: the snapshot pg_dump reads and we count in.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}"],
             "pg_dump")
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        tables = [r[0] for r in cursor.fetchall()]
        counts = _count(cursor.execute, tables, connection.ops.quote_name, fetch=cursor.fetchone)
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return counts, [f"{app}.{name}" for app, name in cursor.fetchall()]


def _count(execute: Callable, tables: list[str], quote: Callable[[str], str], fetch: Callable | None = None
           ) -> dict[str, int]:
    counts = {}
    for table in tables:
        result = execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 — names from the catalogue
        counts[table] = (fetch() if fetch else result.fetchone())[0]
    return counts


def _tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def _app_version() -> str:
    try:
        return importlib.metadata.version("qinqing")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _operator() -> str:
    """Who ran the command on the server: backups and restores are run from a shell, not a signed-in page."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


# --------------------------------------------------------------------------------------------- PostgreSQL tools

def _pg_binary(name: str) -> str:
    """`name` (pg_dump, pg_restore) of the server's major version or newer: an older one refuses the dump.
    Debian installs each version under /usr/lib/postgresql/<major>/bin; else whatever PATH has."""
    connection.ensure_connection()
    major = connection.pg_version // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name)
    candidates += [Path(found)] if found else []
    for candidate in candidates:
        if candidate.is_file() and _major_of(candidate) >= major:
            return str(candidate)
    raise BackupError(f"找不到 PostgreSQL {major} 或更新版本的 {name}：请安装 postgresql-client-{major}。")


def _major_of(binary: Path) -> int:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return 0
    digits = out.split()[-1].split(".")[0]
    return int(digits) if digits.isdigit() else 0


def _pg_environment() -> dict[str, str]:
    """Connection parameters for the PostgreSQL tools from Django's settings; the password in PGPASSWORD,
    never on a command line where `ps` shows it to every user of the machine."""
    params = connection.settings_dict
    env = {**os.environ, "PGDATABASE": params["NAME"], "PGCONNECT_TIMEOUT": "10"}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[variable] = str(params[key])
    options = params.get("OPTIONS") or {}
    for key, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                          ("sslkey", "PGSSLKEY")):
        if options.get(key):
            env[variable] = str(options[key])
    return env


def _run(command: list[str], label: str) -> None:
    done = subprocess.run(command, env=_pg_environment(), capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{label} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-2000:]}")


# --------------------------------------------------------------------------------------------- restore

def read_manifest(archive_path: Path | str) -> dict:
    """The manifest of an archive, checked for its format; BackupError if it is not one of ours."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"备份文件不存在：{archive_path}。")
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            manifest = json.loads(member.read().decode("utf-8")) if member else None
    except (tarfile.TarError, KeyError, OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path.name} 不是亲清的备份文件（缺少或无法读取 {MANIFEST}）。")
    return manifest


def check_restorable(manifest: dict) -> None:
    """Refuse an archive of the other database vendor or of a newer version of the product."""
    vendor = connection.vendor
    if manifest.get("vendor") != vendor:
        theirs = VENDOR_LABELS.get(manifest.get("vendor"), str(manifest.get("vendor")))
        raise BackupError(f"这份备份来自 {theirs} 数据库，当前使用的是 {VENDOR_LABELS.get(vendor, vendor)}，"
                          "不能直接恢复。")
    known = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = sorted(set(manifest.get("migrations") or []) - known)
    if unknown:
        shown = "、".join(unknown[:5]) + ("等" if len(unknown) > 5 else "")
        raise BackupError(f"这份备份来自更新的版本（{manifest.get('app_version')}），含本程序没有的数据库迁移："
                          f"{shown}。请先升级程序再恢复。")


def restore(archive_path: Path | str, *, actor=None) -> dict:
    """恢复: replace the database and MEDIA_ROOT with the archive's, verify every table's count against the
    manifest, and record it in the audit log. Returns the manifest. Stop the web server and the worker
    first: requests during the swap would see a half-restored state."""
    from qinqing.audit.services import record

    archive_path = Path(archive_path).resolve()
    manifest = read_manifest(archive_path)
    check_restorable(manifest)
    media_root = Path(settings.MEDIA_ROOT).resolve()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qinqing-restore-", dir=media_root.parent) as work:
        with tarfile.open(archive_path, "r:gz") as archive:
            members = [m for m in archive.getmembers() if _belongs(m.name, manifest["database_file"])]
            archive.extractall(work, members=members, filter="data")  # no links out, no absolute paths
        database = Path(work) / manifest["database_file"]
        if not database.is_file():
            raise BackupError(f"备份文件中缺少数据库（{manifest['database_file']}）。")
        if manifest["vendor"] == "sqlite":
            _restore_sqlite(database)
        else:
            _restore_postgresql(database, keep=set(manifest["counts"]))
        _swap_media(Path(work) / MEDIA, media_root)
    _verify(manifest, media_root)
    with transaction.atomic():
        record("restore", actor=actor, target=str(archive_path),
               detail={"backup_created_at": manifest["created_at"], "app_version": manifest["app_version"],
                       "vendor": manifest["vendor"], "rows": sum(manifest["counts"].values()),
                       "files": manifest["media"]["files"], "operator": _operator()})
    return manifest


def _belongs(name: str, database_file: str) -> bool:
    return name in (MANIFEST, database_file, MEDIA) or name.startswith(MEDIA + "/")


def _restore_sqlite(database: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(database)
    try:
        # Page by page into the live database through its own connection: the file stays the one every
        # process has open (WAL included), and the copy is all or nothing.
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_postgresql(database: Path, *, keep: set[str]) -> None:
    """pg_restore drops and recreates the archive's tables in one transaction. Tables the archive does not
    have were created after it (by a later migration) and go too, as with SQLite's whole-file copy: left
    behind, they would make the `migrate` that follows the restore of an older backup fail."""
    pg_restore = _pg_binary("pg_restore")
    connection.close()  # holds no lock once closed
    _run([pg_restore, "--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-privileges",
          f"--dbname={connection.settings_dict['NAME']}", str(database)], "pg_restore")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        for (table,) in cursor.fetchall():
            if table not in keep:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")


def _swap_media(restored: Path, media_root: Path) -> None:
    """MEDIA_ROOT becomes the archive's files by two renames on one file system; the old tree goes after."""
    restored.mkdir(exist_ok=True)
    previous = media_root.with_name(f"{media_root.name}.before-restore-{clock.now():%Y%m%d%H%M%S}")
    if media_root.exists():
        media_root.rename(previous)
    restored.rename(media_root)
    shutil.rmtree(previous, ignore_errors=True)


def _verify(manifest: dict, media_root: Path) -> None:
    expected = manifest["counts"]
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        missing = sorted(set(expected) - tables)
        found = _count(cursor.execute, sorted(set(expected) & tables), connection.ops.quote_name,
                       fetch=cursor.fetchone)
    wrong = [f"{t}（应为 {expected[t]} 行，实为 {n} 行）" for t, n in found.items() if n != expected[t]]
    files, _size = _tree_size(media_root)
    if missing or wrong or files != manifest["media"]["files"]:
        parts = ([f"缺少数据表 {'、'.join(missing)}"] if missing else []) + wrong
        if files != manifest["media"]["files"]:
            parts.append(f"文件 应为 {manifest['media']['files']} 个，实为 {files} 个")
        raise BackupError("恢复后的核对未通过：" + "；".join(parts[:10]) + "。")


def describe(manifest: dict) -> str:
    """One line for the operator: when, which version and database, how much."""
    created = timezone.localtime(dt.datetime.fromisoformat(manifest["created_at"]))
    return (f"{created:%Y-%m-%d %H:%M:%S} 的备份（版本 {manifest['app_version']}，"
            f"{VENDOR_LABELS.get(manifest['vendor'], manifest['vendor'])}，{len(manifest['counts'])} 张表 "
            f"{sum(manifest['counts'].values())} 行，文件 {manifest['media']['files']} 个）")
