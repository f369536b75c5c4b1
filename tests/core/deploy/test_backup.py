"""``crm backup`` / ``crm restore``: one verified archive brings the data back exactly."""

import io
import json
import os
import tarfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from config import TestConfig, _normalise_db_url
from core import create_app
from core.extensions import db
from tests.conftest import PG_URL

LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _build_app(uri: str, tmp_path: Path, **config):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS={},
                     CRM_UPLOAD_DIR=str(tmp_path / "instance" / "uploads"),
                     CRM_BACKUP_DIR=str(tmp_path / "backups"), **config)
    app.instance_path = str(tmp_path / "instance")  # never the checkout's own instance folder
    with app.app_context():
        from flask_migrate import stamp

        from core.bootstrap import ensure_deployment

        db.create_all()
        stamp()  # the tables are this code's head, as after `crm init`
        ensure_deployment()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.instance_path, "secret_key").write_text("s" * 48)
    return app


def _seed(app) -> None:
    from core.customers.services import create_customer

    with app.app_context():
        create_customer(display_name="Sara Ahmadi", first_name="Sara", last_name="Ahmadi")
        create_customer(display_name="Ali Rezaei", first_name="Ali", last_name="Rezaei")
        db.session.commit()
    logo = Path(app.config["CRM_UPLOAD_DIR"]) / "service" / "ab" / "logo.png"
    logo.parent.mkdir(parents=True)
    logo.write_bytes(LOGO)


def _names(app) -> list[str]:
    from core.customers.models import Customer

    with app.app_context():
        names = list(db.session.execute(select(Customer.display_name).order_by(Customer.id))
                     .scalars())
        db.session.remove()
        return names


def _damage(app) -> None:
    """What happens after the backup: a customer renamed, one deleted, files changed."""
    from core.customers.models import Customer

    with app.app_context():
        first, second = db.session.execute(select(Customer).order_by(Customer.id)).scalars()
        first.display_name = "Renamed"
        db.session.delete(second)
        db.session.commit()
    uploads = Path(app.config["CRM_UPLOAD_DIR"])
    (uploads / "service" / "ab" / "logo.png").write_bytes(b"overwritten")
    (uploads / "later.txt").write_text("uploaded after the backup")
    Path(app.instance_path, "secret_key").write_text("n" * 48)


def _assert_restored(app) -> None:
    uploads = Path(app.config["CRM_UPLOAD_DIR"])
    assert _names(app) == ["Sara Ahmadi", "Ali Rezaei"]
    assert (uploads / "service" / "ab" / "logo.png").read_bytes() == LOGO
    assert not (uploads / "later.txt").exists()
    assert Path(app.instance_path, "secret_key").read_text() == "s" * 48


@pytest.fixture
def sqlite_app(tmp_path):
    app = _build_app(f"sqlite:///{tmp_path / 'instance' / 'crm.db'}", tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_sqlite_backup_then_restore_brings_everything_back(sqlite_app, tmp_path):
    app = sqlite_app
    _seed(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "backup", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "out").glob("peyvand-backup-*.tar.gz"))
    assert "backup written:" in result.output
    assert archive.stat().st_mode & 0o777 == 0o600

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    with app.app_context():
        from core.bootstrap import deployment_id

        assert manifest["deployment_id"] == deployment_id()
    assert manifest["format_version"] == 1 and manifest["database_dialect"] == "sqlite"
    assert manifest["alembic_revision"] and "secret key" in manifest["warning"]
    listed = {f["path"]: f for f in manifest["files"]}
    assert {"database/peyvand.sqlite3", "files/uploads/service/ab/logo.png",
            "files/instance/secret_key", "README.txt"} <= set(listed)
    assert names == set(listed) | {"manifest.json"}
    assert listed["files/uploads/service/ab/logo.png"]["size"] == len(LOGO)

    _damage(app)
    result = runner.invoke(args=["crm", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "archive verified" in result.output and "restore finished" in result.output
    _assert_restored(app)


def _tampered(archive: Path, dest: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, data) -> data`` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(dest, "w:gz") as out:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return dest


def test_a_changed_or_damaged_archive_is_refused_and_nothing_changes(sqlite_app, tmp_path):
    from core.backup import BackupError, make_backup
    from core.restore import restore

    app = sqlite_app
    _seed(app)
    with app.app_context():
        archive = make_backup()
    flipped = tmp_path / "flipped.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    changed_file = _tampered(archive, tmp_path / "changed.tar.gz", lambda name, data: (
        b"evil" if name.endswith("logo.png") else data))
    newer = _tampered(archive, tmp_path / "newer.tar.gz", lambda name, data: (
        json.dumps({**json.loads(data), "alembic_revision": "9999_future"}).encode()
        if name == "manifest.json" else data))
    _damage(app)
    before = _names(app)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "restore", str(flipped), "--yes"])
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert "damaged" in result.output or "does not match its checksum" in result.output
    with app.app_context():
        with pytest.raises(BackupError, match="logo.png does not match its checksum"):
            restore(changed_file)
        with pytest.raises(BackupError, match="made by a newer version of Peyvand"):
            restore(newer)
    assert _names(app) == before == ["Renamed"]
    uploads = Path(app.config["CRM_UPLOAD_DIR"])
    assert (uploads / "service" / "ab" / "logo.png").read_bytes() == b"overwritten"
    assert (uploads / "later.txt").exists()
    assert not [p for p in uploads.parent.iterdir() if p.name.startswith(".")]


def test_retention_keeps_the_newest_and_the_schedule_waits_its_hours(tmp_path):
    app = _build_app(f"sqlite:///{tmp_path / 'instance' / 'crm.db'}", tmp_path,
                     CRM_BACKUP_EVERY_HOURS=24, CRM_BACKUP_KEEP=2)
    from core.backup import list_backups, scheduled_backup

    folder = tmp_path / "backups"
    with app.app_context():
        first = scheduled_backup()
        assert scheduled_backup() is None  # the newest is not 24 hours old yet
        os.utime(first, (first.stat().st_atime, first.stat().st_mtime - 3 * 86400))
        second = scheduled_backup()
        os.utime(second, (second.stat().st_atime, second.stat().st_mtime - 2 * 86400))
        third = scheduled_backup(now=datetime.now(UTC) + timedelta(hours=25))
        kept = [b["path"] for b in list_backups()]
        app.config["CRM_BACKUP_EVERY_HOURS"] = 0
        assert scheduled_backup(now=datetime.now(UTC) + timedelta(days=9)) is None
        db.engine.dispose()
    assert kept == [third, second]
    assert sorted(folder.iterdir()) == sorted([second, third])


@pytest.mark.postgres
def test_postgres_backup_then_restore(tmp_path):
    if not PG_URL:
        pytest.skip("the PostgreSQL round trip needs CRM_TEST_DATABASE_URL")
    admin_url = _normalise_db_url(PG_URL)
    name = f"peyvand_backup_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    app = None
    try:
        app = _build_app(admin_url.rsplit("/", 1)[0] + f"/{name}", tmp_path)
        _seed(app)
        with app.app_context():
            from core.backup import make_backup
            from core.restore import restore

            archive = make_backup()
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest["database_dialect"] == "postgresql"
        assert "database/peyvand.pgdump" in {f["path"] for f in manifest["files"]}
        _damage(app)
        with app.app_context():
            restore(archive)
            db.engine.dispose()
        _assert_restored(app)
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_missing_or_old_pg_dump_is_said_plainly(app, tmp_path, monkeypatch):
    if not PG_URL:
        pytest.skip("pg_dump's version is compared with a PostgreSQL server's")
    from core import backup

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(backup, "PG_VERSIONS_DIR", str(tmp_path / "none"))
    app.config["CRM_PG_BIN"] = None
    with app.app_context():
        with pytest.raises(backup.BackupError, match=r"^pg_dump is not installed; install the "
                                                     r"PostgreSQL client tools of version \d+"):
            backup.make_backup(tmp_path / "out")
        old = bin_dir / "pg_dump"
        old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
        old.chmod(0o755)
        with pytest.raises(backup.BackupError, match=r"^pg_dump is version 9 but the PostgreSQL "
                                                     r"server is version \d+"):
            backup.make_backup(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
