"""Trial, expiry stages, read-only writes, clock rollback and the cross-worker version stamp."""

from datetime import timedelta

import pytest

from core.licensing import LicenseError, current_state, forget_state
from tests.conftest import csrf_from
from tests.core.licensing.helpers import BASE, ROOT, license_text


def state_of(app):
    with app.app_context():
        return current_state()


@pytest.fixture
def api_token(app, admin):
    """A write-scoped personal access token of the admin."""
    from sqlalchemy import select

    from core.api.tokens import create_token
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "admin@example.ir")).scalar()
        _token, secret = create_token(user, "probe", scopes=("read", "write"))
        db.session.commit()
        return secret


def post_probe(client, value="x"):
    token = csrf_from(client.get("/admin/license"))
    return client.post("/probe/write", data={"value": value, "csrf_token": token})


def test_trial_without_a_license_covers_every_module(app, clock, admin):
    state = state_of(app)
    assert state.kind == "trial" and state.is_trial and not state.read_only
    assert state.seats_for("marketing") == 3 and state.module_refusal("loyalty") == ""
    assert state.expires_at == BASE + timedelta(days=30)
    page = admin.get("/")
    assert b"Trial: 30 days left" in page.data
    assert admin.get("/sales/", follow_redirects=True).status_code == 200
    clock.now = BASE + timedelta(days=29, hours=1)
    assert b"Trial: 0 days left" in admin.get("/").data


def test_trial_ends_in_read_only(app, clock, admin, write_probe):
    assert post_probe(admin, "during trial").data == b"saved"
    clock.now = BASE + timedelta(days=30, minutes=1)
    assert state_of(app).read_only
    refused = post_probe(admin, "after trial")
    assert refused.status_code == 403
    assert b"The license has expired; reads and exports still work" in refused.data
    assert admin.get("/probe/write").data == b"value=during trial"


def test_expiry_warning_grace_then_read_only(app, clock, deployment_id, install, admin,
                                             api_token):
    install(license_text(deployment_id))  # expires at the end of 2026-06-30, 14 grace days
    assert state_of(app).stage == "active"
    assert b'data-banner="license' not in admin.get("/").data

    clock.now = BASE.replace(month=6, day=10)
    assert state_of(app).stage == "warning"
    page = admin.get("/").data
    assert b'data-banner="license-warning"' in page and b"20 days left" in page

    clock.now = BASE.replace(month=7, day=2)
    assert state_of(app).stage == "grace"
    assert b'data-banner="license-grace"' in admin.get("/").data
    assert post_probe(admin, "in grace").data == b"saved"  # grace still writes

    clock.now = BASE.replace(month=7, day=16)
    state = state_of(app)
    assert state.stage == "read_only" and state.read_only
    assert state.module_refusal("sales") == ""  # modules stay readable
    refused = post_probe(admin, "too late")
    assert refused.status_code == 403
    assert b"The license has expired; reads and exports still work" in refused.data
    assert b"contact your reseller" in refused.data.lower()
    api = admin.post("/api/v1/probe", headers={"Authorization": f"Bearer {api_token}"})
    assert api.status_code == 403 and api.mimetype == "application/problem+json"
    assert "license has expired" in api.get_json()["detail"]
    assert admin.get("/probe/write").data == b"value=in grace"  # reads still work, data intact
    assert admin.get("/sales/", follow_redirects=True).status_code == 200
    assert b'data-banner="license-read-only"' in admin.get("/").data


def test_a_new_license_can_be_installed_while_read_only(app, clock, deployment_id, install,
                                                        admin, write_probe):
    from datetime import date

    install(license_text(deployment_id))
    clock.now = BASE.replace(month=8, day=1)
    assert post_probe(admin).status_code == 403
    renewal = license_text(deployment_id, expires=date(2027, 6, 30), now=clock.now)
    token = csrf_from(admin.get("/admin/license"))
    import io

    response = admin.post("/admin/license/upload", data={
        "csrf_token": token, "file": (io.BytesIO(renewal.encode()), "renewal.lic")})
    assert response.status_code == 302
    assert post_probe(admin, "renewed").data == b"saved"


def test_sign_in_and_language_still_work_while_read_only(app, clock, client, make_user):
    make_user("a@example.ir", locale="en")
    clock.now = BASE + timedelta(days=40)
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={
        "email": "a@example.ir", "password": "correct horse battery",
        "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    token = csrf_from(client.get("/admin/license"))
    assert client.post("/auth/language/fa", data={"csrf_token": token}).status_code == 302


def test_clock_rollback_makes_the_deployment_read_only(app, clock, admin, write_probe):
    clock.now = BASE + timedelta(days=3)
    assert post_probe(admin, "day 3").data == b"saved"  # also stores the last-seen time
    clock.now = BASE + timedelta(days=1)
    state = state_of(app)
    assert state.stage == "clock_rollback" and state.read_only
    refused = post_probe(admin, "day 1")
    assert refused.status_code == 403
    assert b"The system clock went back" in refused.data
    assert b'data-banner="license-read-only"' in admin.get("/").data
    clock.now = BASE + timedelta(days=3, minutes=5)  # clock fixed
    assert post_probe(admin, "fixed").data == b"saved"


def test_small_clock_skew_between_workers_is_tolerated(app, clock, admin, write_probe):
    clock.now = BASE + timedelta(days=3)
    admin.get("/")
    clock.now = BASE + timedelta(days=3) - timedelta(minutes=10)
    assert not state_of(app).read_only


def test_modules_outside_the_license_are_not_active(app, clock, deployment_id, install, admin):
    install(license_text(deployment_id, {"sales": 5, "service": 2}))
    state = state_of(app)
    assert state.kind == "subscription"
    assert state.seats_for("sales") == 5 and state.seats_for("marketing") == 0
    assert "not licensed" in state.module_refusal("marketing")
    response = admin.get("/marketing/campaigns")
    assert response.status_code == 403 and b'data-error="not-licensed"' in response.data
    assert admin.get("/sales/", follow_redirects=True).status_code == 200


def test_a_license_installed_by_one_worker_is_seen_by_another(app, clock, deployment_id,
                                                              install, make_user):
    from config import TestConfig
    from core import create_app

    other = create_app(TestConfig, **{key: app.config[key] for key in (
        "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "CRM_LICENSE_ROOT_KEYS",
        "CRM_NOW", "CRM_UPLOAD_DIR")})
    make_user("w@example.ir", locale="en", seats=["sales", "marketing"])
    worker = other.test_client()
    page = worker.get("/auth/login")
    worker.post("/auth/login", data={"email": "w@example.ir", "password": "correct horse battery",
                                     "csrf_token": csrf_from(page)})
    assert worker.get("/marketing/campaigns").status_code == 200  # trial: everything
    assert state_of(other).kind == "trial"

    install(license_text(deployment_id, {"sales": 5}))  # through the first app
    assert state_of(other).kind == "subscription"
    assert worker.get("/marketing/campaigns").status_code == 403
    with other.app_context():
        from core.extensions import db

        db.engine.dispose()


def test_revocation_list_takes_a_license_out_of_force(app, clock, deployment_id, install):
    from core.licensing import documents

    install(license_text(deployment_id))
    lic = state_of(app).license
    result = install(documents.make_revocations(ROOT, sequence=1, licenses=[lic.license_id]))
    assert "Revocation list number 1 installed" in result.message
    state = state_of(app)
    assert state.license is None and state.kind == "trial"
    assert "has been revoked by the vendor" in state.notice
    with pytest.raises(LicenseError, match="older than the one installed"):
        install(documents.make_revocations(ROOT, sequence=0))
    assert install(license_text(deployment_id, {"sales": 1})).changed  # another id is fine
    install(documents.make_revocations(ROOT, sequence=2, resellers=["r-42"]))
    with pytest.raises(LicenseError, match="reseller Arya Systems has been revoked"):
        install(license_text(deployment_id, {"sales": 2}))
    assert state_of(app).license is None


def test_state_is_cached_per_request(app, clock):
    with app.app_context():
        first = current_state()
        assert current_state() is first
        forget_state()
        assert current_state() is not first
