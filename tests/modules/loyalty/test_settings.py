"""Club settings: validated, saved as ``loyalty.*`` settings (audited), read by the ledger;
only for those who manage the club."""

from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.service.ticket_helpers import sign_in

GOOD = {"point_value": "۲٬۵۰۰", "pending_days": "14", "expiry_months": "6",
        "tier_window_months": "12", "downgrade_notice_days": "30"}


def test_settings_are_validated_saved_and_audited(app, make_user):
    from core.audit import AuditLog
    from modules.loyalty.ledger import ClubSettings, club_settings

    make_user("admin@example.ir", seats=["loyalty"])
    admin = sign_in(app, "admin@example.ir")
    page = admin.get("/loyalty/settings")
    assert 'value="۱٬۰۰۰"' in page.get_data(as_text=True)  # the default point value
    with force_locale("en"):
        bad = admin.post("/loyalty/settings", data={
            **GOOD, "pending_days": "400", "point_value": "", "csrf_token": csrf_from(page)})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and html.count("invalid-feedback") == 2
    with app.app_context():
        assert club_settings() == ClubSettings()  # nothing saved
    done = admin.post("/loyalty/settings", data={**GOOD, "csrf_token": csrf_from(page)})
    assert done.status_code == 302
    with app.app_context():
        assert club_settings() == ClubSettings(point_value=2500, pending_days=14,
                                               expiry_months=6, tier_window_months=12,
                                               downgrade_notice_days=30, auto_enrol=False)
        audited = db.session.execute(select(AuditLog).where(
            AuditLog.action == "loyalty.settings")).scalar()
        assert set(audited.detail["changed"]) == {"point_value", "pending_days",
                                                  "expiry_months", "auto_enrol"}
    again = admin.post("/loyalty/settings", data={**GOOD, "auto_enrol": "y",
                                                   "csrf_token": csrf_from(page)})
    assert again.status_code == 302
    with app.app_context():
        assert club_settings().auto_enrol is True


def test_settings_need_the_manage_permission(app, make_user):
    make_user("ali@example.ir", role="agent", seats=["loyalty"])
    agent = sign_in(app, "ali@example.ir")
    assert agent.get("/loyalty/settings").status_code == 403
    assert 'href="/loyalty/settings"' not in agent.get("/loyalty/members").get_data(
        as_text=True)
