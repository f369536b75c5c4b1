"""Administration → Backups lists the archives and the schedule, for the settings right only."""

import os

import pytest
from flask_babel import force_locale


@pytest.fixture
def app_overrides(tmp_path):
    return {"CRM_BACKUP_DIR": str(tmp_path / "backups"), "CRM_BACKUP_EVERY_HOURS": 24,
            "CRM_BACKUP_KEEP": 3}


def test_admin_sees_the_backups_newest_first(app, client, make_user, login, tmp_path):
    folder = tmp_path / "backups"
    make_user(locale="en")
    login()
    page = client.get("/admin/backups/")
    assert page.status_code == 200
    with app.app_context(), force_locale("en"):
        assert b"No backups in this folder yet" in page.data
    folder.mkdir()
    for stamp, size in (("20260301T020000Z", 2048), ("20260302T020000Z", 5000)):
        (folder / f"peyvand-backup-{stamp}.tar.gz").write_bytes(b"x" * size)
    (folder / "notes.txt").write_text("not a backup")
    os.utime(folder / "peyvand-backup-20260301T020000Z.tar.gz", (1, 1_700_000_000))
    page = client.get("/admin/backups/")
    text = page.get_data(as_text=True)
    assert text.index("peyvand-backup-20260302T020000Z") < text.index(
        "peyvand-backup-20260301T020000Z")
    assert "notes.txt" not in text
    assert "The worker makes a backup every 24 hours and keeps the newest 3." in text
    assert "5 KB" in text and "2 KB" in text
    assert 'href="/admin/backups/"' in client.get("/admin/").get_data(as_text=True)


def test_an_agent_cannot_see_the_backups(client, make_user, login):
    make_user("agent@example.ir", role="agent")
    login("agent@example.ir")
    assert client.get("/admin/backups/").status_code == 403
