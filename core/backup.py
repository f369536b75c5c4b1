"""Backups: one ``.tar.gz`` with a manifest, the database and the deployment's files.

``make_backup`` writes ``manifest.json`` (versions, dialect, migration, deployment id, and the
size and SHA-256 of every other member), the database (SQLite through the online backup API,
PostgreSQL through ``pg_dump --format=custom``), the upload folder and the instance files the
app writes (the secret key, ``deployment.json``); ``core.restore`` reads it back. The archive
holds the secret key and every customer's data: it is written with mode 0600.
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
PG_VERSIONS_DIR = "/usr/lib/postgresql"  # Debian keeps each major version's tools here

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
            shutil.copytree(where.uploads, staging / UPLOADS, symlinks=False,
                            ignore=_skip_folder(out.resolve()))
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


def _skip_folder(folder: Path):
    """A ``copytree`` ignore that leaves out ``folder`` (backups kept inside the upload dir)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if (Path(directory) / name).resolve() == folder}

    return ignore


def _free_name(out: Path, created: datetime) -> Path:
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    path, n = out / f"{PREFIX}{stamp}{SUFFIX}", 1
    while path.exists():
        n += 1
        path = out / f"{PREFIX}{stamp}-{n}{SUFFIX}"
    return path


def _describe(root: Path, path: Path) -> dict:
    return {"path": path.relative_to(root).as_posix(), "size": path.stat().st_size,
            "sha256": sha256_of(path)}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sqlite_file(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up")
    return Path(url.database)


def _dump_sqlite(url, dest: Path) -> None:
    """A consistent copy of a live SQLite database through its online backup API."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(sqlite_file(url), timeout=30)
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


def libpq_args(url) -> tuple[str, dict]:
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
    folders += sorted((str(p) for p in Path(PG_VERSIONS_DIR).glob("*/bin")),
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


def run_tool(args: list[str], env: dict, what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else result.returncode}")


def _dump_postgres(url, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    conninfo, env = libpq_args(url)
    run_tool([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={dest}",
              f"--dbname={conninfo}"], env, "pg_dump")


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
