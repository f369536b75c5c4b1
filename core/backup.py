"""Backups: one ``.tar.gz`` with a manifest, the database and the deployment's files.

``make_backup`` writes ``manifest.json`` (versions, dialect, migration, deployment id, and the
size and SHA-256 of every other member), the database (SQLite through the online backup API,
PostgreSQL through ``pg_dump --format=custom``), the upload folder and the instance files the
app writes (the secret key, ``deployment.json``). ``restore`` verifies everything first and
only then replaces the database and the files, and migrates the result to this code's head.
The archive holds the secret key and every customer's data: it is written with mode 0600.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app

from core.extensions import db

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PREFIX = "peyvand-backup-"
SUFFIX = ".tar.gz"
UPLOADS = "files/uploads"
INSTANCE = "files/instance"
INSTANCE_FILES = ("secret_key", "deployment.json")
WARNING = ("This archive holds the secret key and every customer's data of a Peyvand "
           "deployment: keep it where only administrators can read it.")
CHECK_EVERY_SECONDS = 600

Echo = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why in plain words."""


@dataclass
class Target:
    """Where this deployment keeps its data."""

    dialect: str
    url: object  # sqlalchemy URL
    uploads: Path
    instance: Path


def target(app: Flask | None = None) -> Target:
    app = app or current_app
    return Target(db.engine.dialect.name, db.engine.url, Path(app.config["CRM_UPLOAD_DIR"]),
                  Path(app.instance_path))


# ---- making a backup ----------------------------------------------------------------------


def make_backup(out_dir: str | Path | None = None, echo: Echo = lambda _m: None) -> Path:
    """Write one archive into ``out_dir`` (default ``CRM_BACKUP_DIR``); returns its path."""
    where = target()
    out = Path(out_dir or current_app.config["CRM_BACKUP_DIR"])
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="peyvand-backup-") as tmp:
        staging = Path(tmp)
        echo(f"database ({where.dialect})...")
        if where.dialect == "sqlite":
            _dump_sqlite(where.url, staging / "database" / "peyvand.sqlite3")
        elif where.dialect == "postgresql":
            _dump_postgres(where.url, staging / "database" / "peyvand.pgdump")
        else:
            raise BackupError(f"cannot back up a {where.dialect} database")
        echo(f"uploaded files from {where.uploads}...")
        if where.uploads.is_dir():
            shutil.copytree(where.uploads, staging / UPLOADS, symlinks=False)
        else:
            (staging / UPLOADS).mkdir(parents=True)
        for name in INSTANCE_FILES:
            if (where.instance / name).is_file():
                (staging / INSTANCE).mkdir(parents=True, exist_ok=True)
                shutil.copy2(where.instance / name, staging / INSTANCE / name)
        (staging / "README.txt").write_text(WARNING + "\nRestore it with `flask --app wsgi "
                                            "crm restore ARCHIVE`.\n", encoding="utf-8")
        files = [_describe(staging, path) for path in sorted(staging.rglob("*"))
                 if path.is_file()]
        manifest = {
            "format_version": FORMAT_VERSION,
            "app_version": app_version(),
            "created_at": created.isoformat(timespec="seconds"),
            "database_dialect": where.dialect,
            "alembic_revision": current_revision(),
            "deployment_id": _deployment_id(),
            "warning": WARNING,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                        encoding="utf-8")
        archive = _free_name(out, created)
        echo(f"writing {archive} ({len(files)} files)...")
        partial = archive.with_name(archive.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(staging / MANIFEST, arcname=MANIFEST)
            for entry in files:
                tar.add(staging / entry["path"], arcname=entry["path"])
        os.chmod(partial, 0o600)
        partial.replace(archive)
    echo(f"backup written: {archive}")
    return archive


def _free_name(out: Path, created: datetime) -> Path:
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    path, n = out / f"{PREFIX}{stamp}{SUFFIX}", 1
    while path.exists():
        n += 1
        path = out / f"{PREFIX}{stamp}-{n}{SUFFIX}"
    return path


def _describe(root: Path, path: Path) -> dict:
    return {"path": path.relative_to(root).as_posix(), "size": path.stat().st_size,
            "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up")
    return Path(url.database)


def _dump_sqlite(url, dest: Path) -> None:
    """A consistent copy of a live SQLite database through its online backup API."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_sqlite_path(url), timeout=30)
    copy = sqlite3.connect(dest)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("peyvand")
    except PackageNotFoundError:
        return "unknown"


def _deployment_id() -> str | None:
    from core.bootstrap import deployment_id

    try:
        return deployment_id()
    finally:
        db.session.rollback()


def current_revision() -> str | None:
    """The database's Alembic revision (None when it has no migration history)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


# ---- PostgreSQL tools ---------------------------------------------------------------------


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def _server_major() -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000


def pg_tool(name: str) -> str:
    """The path of ``pg_dump``/``pg_restore`` at least as new as the server, or BackupError."""
    folders = [current_app.config.get("CRM_PG_BIN")]
    on_path = shutil.which(name)
    folders.append(str(Path(on_path).parent) if on_path else None)
    folders += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
                      key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0),
                      reverse=True)
    found = {}
    for folder in filter(None, folders):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            found.setdefault(str(path), _tool_major(str(path)))
    server = _server_major()
    for path, major in found.items():
        if major is not None and major >= server:
            return path
    if not found:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools of "
                          f"version {server} or newer (e.g. postgresql-client-{server}), or set "
                          "CRM_PG_BIN to the folder that holds them")
    newest = max((m or 0) for m in found.values())
    raise BackupError(f"{name} is version {newest} but the PostgreSQL server is version "
                      f"{server}; install postgresql-client-{server} or set CRM_PG_BIN to its "
                      "bin folder")


def _run(args: list[str], env: dict, what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else result.returncode}")


def _dump_postgres(url, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    conninfo, env = _libpq(url)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={dest}",
          f"--dbname={conninfo}"], env, "pg_dump")


# ---- verifying and restoring --------------------------------------------------------------


def _safe_member(member: tarfile.TarInfo) -> bool:
    parts = Path(member.name).parts
    return (member.isfile() or member.isdir()) and not member.name.startswith("/") \
        and ".." not in parts


def verify(archive: Path, staging: Path, echo: Echo = lambda _m: None) -> dict:
    """Unpack ``archive`` into ``staging`` and check it against this deployment; the manifest.

    Raises BackupError (and changes nothing outside ``staging``) when the archive is not a
    Peyvand backup, a file is missing, added or changed, the database kind differs from the
    configured one, or the backup comes from a newer version of the code.
    """
    echo(f"verifying {archive}...")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            unsafe = [m.name for m in members if not _safe_member(m)]
            if unsafe:
                raise BackupError(f"{archive} has entries a backup never holds ({unsafe[0]}); "
                                  "refusing it")
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise BackupError(f"{archive}: no such file") from exc
        raise BackupError(f"{archive} is damaged or not a backup archive ({exc})") from exc
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive} has no readable {MANIFEST}; it is not a Peyvand backup"
                          ) from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{archive} has backup format {manifest.get('format_version')}; "
                          f"this version reads format {FORMAT_VERSION}")
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    present = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    for path in sorted(set(listed) - present):
        raise BackupError(f"{path} is listed in the manifest but missing from the archive")
    for path in sorted(present - set(listed) - {MANIFEST}):
        raise BackupError(f"{path} is in the archive but not in its manifest")
    for path, entry in sorted(listed.items()):
        file = staging / path
        if file.stat().st_size != entry["size"] or _sha256(file) != entry["sha256"]:
            raise BackupError(f"{path} does not match its checksum: the archive was changed "
                              "or damaged")
    _check_compatible(manifest)
    echo(f"archive verified: {len(listed)} files, made {manifest['created_at']} by "
         f"Peyvand {manifest['app_version']}")
    return manifest


def _check_compatible(manifest: dict) -> None:
    from alembic.script import ScriptDirectory

    from core.database import MIGRATIONS_DIR

    dialect = target().dialect
    if manifest["database_dialect"] != dialect:
        raise BackupError(f"this backup holds a {manifest['database_dialect']} database but "
                          f"this deployment uses {dialect}; restore it into a "
                          f"{manifest['database_dialect']} deployment")
    revision = manifest.get("alembic_revision")
    if revision:
        scripts = ScriptDirectory(MIGRATIONS_DIR)
        for rev in revision.split(","):
            try:
                known = scripts.get_revision(rev) is not None
            except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
                known = False
            if not known:
                raise BackupError(f"this backup was made by a newer version of Peyvand "
                                  f"(migration {rev}); upgrade Peyvand before restoring it")


def restore(archive: str | Path, echo: Echo = lambda _m: None,
            confirm: Callable[[dict], bool] | None = None) -> dict:
    """Verify ``archive``, then replace the database and files with it and migrate to head.

    ``confirm(manifest)`` is asked after the verification; returning False changes nothing.
    """
    archive = Path(archive)
    where = target()
    work_parent = where.uploads.parent
    work_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".peyvand-restore-", dir=work_parent) as tmp:
        staging = Path(tmp) / "archive"
        staging.mkdir()
        manifest = verify(archive, staging, echo)
        if confirm is not None and not confirm(manifest):
            raise BackupError("restore cancelled; nothing was changed")
        db.session.remove()
        db.engine.dispose()
        if where.dialect == "sqlite":
            _restore_sqlite(staging / "database" / "peyvand.sqlite3", where.url, echo)
        else:
            _restore_postgres(staging / "database" / "peyvand.pgdump", where.url, echo)
        echo(f"files into {where.uploads}...")
        _swap_folder(staging / UPLOADS, where.uploads)
        for name in INSTANCE_FILES:
            source = staging / INSTANCE / name
            if source.is_file():
                where.instance.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, where.instance / f".{name}.restore")
                os.chmod(where.instance / f".{name}.restore", 0o600)
                os.replace(where.instance / f".{name}.restore", where.instance / name)
    _migrate(manifest, echo)
    echo("restore finished")
    return manifest


def _restore_sqlite(source: Path, url, echo: Echo) -> None:
    """Copy the backup into a temporary file, check it, then swap it in as one transaction.

    The swap goes through SQLite's backup API into the live file rather than a rename, so a
    leftover write-ahead log of the old database can never be replayed onto the new one.
    """
    live = _sqlite_path(url)
    echo(f"database into {live}...")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{live.name}.restore-", dir=live.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(source, tmp)
        check = sqlite3.connect(tmp)
        try:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the database in the backup fails SQLite's integrity check")
            dest = sqlite3.connect(live, timeout=30)
            try:
                check.backup(dest)
            finally:
                dest.close()
        finally:
            check.close()
    finally:
        tmp.unlink(missing_ok=True)


def _restore_postgres(source: Path, url, echo: Echo) -> None:
    conninfo, env = _libpq(url)
    echo(f"database into {url.render_as_string(hide_password=True)}...")
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", "--no-password", f"--dbname={conninfo}", str(source)], env,
         "pg_restore")


def _swap_folder(new: Path, live: Path) -> None:
    """Put ``new`` where ``live`` is (two renames on one file system), then drop the old one."""
    live.parent.mkdir(parents=True, exist_ok=True)
    moved = live.parent / f".{live.name}.new"
    old = live.parent / f".{live.name}.old"
    for leftover in (moved, old):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.move(str(new if new.is_dir() else _empty(new)), moved)
    if live.exists():
        live.rename(old)
    moved.rename(live)
    shutil.rmtree(old, ignore_errors=True)


def _empty(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _migrate(manifest: dict, echo: Echo) -> None:
    if not manifest.get("alembic_revision"):
        echo("the backup has no migration history; migrations were not run")
        return
    from flask_migrate import upgrade

    echo("migrating the database to this version...")
    db.engine.dispose()
    upgrade()


# ---- schedule and retention ---------------------------------------------------------------


def list_backups(folder: str | Path | None = None) -> list[dict]:
    """The archives in ``folder`` (default ``CRM_BACKUP_DIR``), newest first."""
    folder = Path(folder or current_app.config["CRM_BACKUP_DIR"])
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        stat = path.stat()
        found.append({"path": path, "name": path.name, "size": stat.st_size,
                      "modified": datetime.fromtimestamp(stat.st_mtime, UTC)})
    return sorted(found, key=lambda b: (b["modified"], b["name"]), reverse=True)


def prune(folder: str | Path | None = None, keep: int | None = None) -> list[Path]:
    """Delete the oldest archives beyond ``keep`` (default ``CRM_BACKUP_KEEP``); the deleted."""
    keep = current_app.config["CRM_BACKUP_KEEP"] if keep is None else keep
    doomed = [b["path"] for b in list_backups(folder)[max(int(keep), 1):]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def scheduled_backup(now: datetime | None = None) -> Path | None:
    """The periodic job: a backup when the newest is older than CRM_BACKUP_EVERY_HOURS."""
    hours = current_app.config.get("CRM_BACKUP_EVERY_HOURS") or 0
    if hours <= 0:
        return None
    now = now or datetime.now(UTC)
    newest = list_backups()
    if newest and now - newest[0]["modified"] < timedelta(hours=hours) - timedelta(minutes=5):
        return None
    path = make_backup(echo=lambda m: current_app.logger.info("backup: %s", m))
    for old in prune():
        current_app.logger.info("backup: deleted %s (keeping %s)", old,
                                current_app.config["CRM_BACKUP_KEEP"])
    return path


def init_app(app: Flask) -> None:
    from core import backup_views, jobs

    jobs.periodic("backup.scheduled", CHECK_EVERY_SECONDS, scheduled_backup)
    app.register_blueprint(backup_views.bp)
