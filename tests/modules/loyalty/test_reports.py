"""Club reports: exact figures for earn and burn per Jalali month, outstanding, liability."""

from datetime import UTC, datetime

from sqlalchemy import update

from core.extensions import db
from tests.modules.loyalty.club_helpers import make_member, member


def _move(app, member_id, when, action, points):
    from modules.loyalty import ledger
    from modules.loyalty.models.ledger import Entry

    with app.test_request_context():
        fn = getattr(ledger, action)
        entry = fn(member(member_id), points, reason=action)
        db.session.execute(update(Entry).where(Entry.id == entry.id).values(created_at=when))
        db.session.commit()


def test_earn_and_burn_by_jalali_month_and_liability(app, login, make_user):
    from core.database import set_setting

    make_user(seats=["loyalty", "sales"])
    a, b = make_member(app), make_member(app)
    # 30 Mehr 1404 = 2025-10-22, 1 Aban 1404 = 2025-10-23 (Tehran)
    mehr = datetime(2025, 10, 22, 10, 0, tzinfo=UTC)
    aban = datetime(2025, 10, 23, 10, 0, tzinfo=UTC)
    _move(app, a, mehr, "earn", 1000)
    _move(app, b, mehr, "earn", 200)
    _move(app, a, aban, "redeem", 300)
    with app.app_context():
        set_setting("loyalty.point_value", 500)
        db.session.commit()
        from modules.loyalty import reports

        figures = {m.month: m for m in reports.month_figures([(1404, 7), (1404, 8)])}
        assert (figures[(1404, 7)].earned, figures[(1404, 7)].redeemed,
                figures[(1404, 7)].active) == (1200, 0, 2)
        assert (figures[(1404, 8)].earned, figures[(1404, 8)].redeemed,
                figures[(1404, 8)].active) == (0, 300, 1)
        summary = reports.summary([(1404, 7), (1404, 8)])
        assert (summary.members, summary.active, summary.outstanding) == (2, 2, 900)
        assert summary.liability == 450_000
    client = login()
    page = client.get("/loyalty/reports?months=24")
    assert page.status_code == 200
    assert 'data-figure="liability"' in page.text
    assert "۹۰۰" in page.text  # outstanding, in Persian digits (fa is the default)
    csv_text = client.get("/loyalty/reports/months.csv?months=24").data.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert any(line.endswith(",1200,0,0,0,2") for line in lines), lines
    assert any(line.endswith(",0,300,0,0,1") for line in lines), lines
