"""``crm restore``: verify a backup archive completely, then replace the data with it.

Nothing outside a staging folder is touched until the manifest, every checksum, the database
kind and the migration have been checked. Then the database is replaced in one transaction,
the upload folder by a folder swap, the instance files by renames, and the result is migrated
to this code's head (a backup from an older version comes back upgraded).
"""

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.backup import (
    FORMAT_VERSION,
    INSTANCE,
    INSTANCE_FILES,
    MANIFEST,
    UPLOADS,
    BackupError,
    Echo,
    libpq_args,
    pg_tool,
    run_tool,
    sha256_of,
    sqlite_file,
    target,
)
from core.extensions import db


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
        if file.stat().st_size != entry["size"] or sha256_of(file) != entry["sha256"]:
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
    live = sqlite_file(url)
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
    conninfo, env = libpq_args(url)
    echo(f"database into {url.render_as_string(hide_password=True)}...")
    run_tool([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", "--exit-on-error", "--no-password", f"--dbname={conninfo}",
              str(source)], env, "pg_restore")


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
