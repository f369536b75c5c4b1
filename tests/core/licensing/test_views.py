"""The admin license page (with upload) and the modules page."""

import io

from tests.conftest import csrf_from
from tests.core.licensing.helpers import certificate, license_text


def upload(client, text, name="new.lic"):
    token = csrf_from(client.get("/admin/license"))
    data = text.encode() if isinstance(text, str) else text
    return client.post("/admin/license/upload", data={
        "csrf_token": token, "file": (io.BytesIO(data), name)})


def test_license_page_shows_the_trial_and_the_deployment_id(app, clock, admin, deployment_id):
    page = admin.get("/admin/license")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-license-kind="trial"' in html
    assert f"data-deployment-id>{deployment_id}<" in html
    assert "No license installed (trial)" in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html


def test_uploading_a_license_activates_its_modules_at_once(app, clock, admin, deployment_id,
                                                           install):
    install(license_text(deployment_id, {"sales": 5}))
    assert admin.get("/service/").status_code == 403  # not licensed yet
    response = upload(admin, license_text(deployment_id, {"sales": 5, "service": 3}))
    assert response.status_code == 302
    page = admin.get("/admin/license").get_data(as_text=True)
    assert "License installed for شرکت نمونه پارس" in page
    assert 'data-license-kind="subscription"' in page
    assert 'data-module="service" data-active="yes"' in page
    assert "شرکت نمونه پارس" in page and "Arya Systems" in page
    from core.licensing.state import current_state

    with app.app_context():
        assert current_state().seats_for("service") == 3
    from core.audit import AuditLog
    from core.extensions import db

    with app.app_context():
        actions = [a.action for a in db.session.query(AuditLog).all()]
    assert actions.count("license.install") == 2


def test_upload_refusal_shows_the_reason(app, clock, admin):
    response = upload(admin, license_text("91a0b2c3d4e5f60718293a4b5c6d7e8f"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The license was refused: this license is for deployment 91a0b2c3…" in html
    assert 'data-license-kind="trial"' in html
    response = upload(admin, certificate())
    assert response.status_code == 422
    assert "this is a reseller certificate, not a license" in response.get_data(as_text=True)
    response = upload(admin, b"\xff\xfe not a license")
    assert response.status_code == 422 and "not a Peyvand license file" in response.get_data(
        as_text=True)


def test_license_changed_is_emitted(app, clock, deployment_id, install):
    from core import events

    seen = []

    def listener(sender, **kwargs):
        seen.append(kwargs)

    events.license_changed.connect(listener)
    try:
        install(license_text(deployment_id))
    finally:
        events.license_changed.disconnect(listener)
    assert seen and seen[0]["license"].modules == {"sales": 5, "service": 2}


def test_modules_page_shows_state_reasons_and_seats(app, clock, admin, deployment_id, install):
    install(license_text(deployment_id, {"sales": 4, "service": 2}))
    html = admin.get("/admin/modules").get_data(as_text=True)
    assert 'data-module="sales" data-loaded="yes" data-active="yes"' in html
    assert 'data-module="marketing" data-loaded="yes" data-active="no"' in html
    assert "not licensed: the license does not include this module" in html
    assert "1 of 4" in html  # the admin holds a sales seat
    assert "0.1.0" in html


def test_license_pages_need_their_permissions(app, clock, make_user, login):
    make_user("agent@example.ir", role="agent", locale="en")
    client = login("agent@example.ir")
    assert client.get("/admin/license").status_code == 403
    assert client.get("/admin/modules").status_code == 403


def test_menu_links_to_the_license_and_modules_pages(app, clock, admin):
    html = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/license"' in html and 'href="/admin/modules"' in html


def test_expiry_is_shown_as_the_last_jalali_day(app, clock, admin, deployment_id, install):
    install(license_text(deployment_id))  # valid through 2026-06-30 = 1405/04/09
    html = admin.get("/admin/license").get_data(as_text=True)
    assert "1405/04/09" in html and "1405/04/23" in html  # expiry, then 14 grace days
    clock.now = clock.now.replace(month=6, day=20)
    assert "The license expires on 1405/04/09" in admin.get("/").get_data(as_text=True)
