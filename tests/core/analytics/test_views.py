"""The analytics page: segment names in fa and en, empty state, recompute with progress, widget."""

from datetime import UTC, date, datetime

from core.analytics.jobs import recompute_scores
from core.extensions import db
from tests.conftest import csrf_from
from tests.core.analytics.test_sql import _add, _hand_made

UNTIL = date(2024, 3, 31)


def _purchases(app, rows):
    with app.app_context():
        for customer, day, amount in rows:
            _add(customer, datetime(2024, 3, day, 9, tzinfo=UTC), amount)
        db.session.commit()


def _login(client, email):
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"email": email, "password": "correct horse battery",
                                                "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    return client


def _scored(app):
    with app.app_context():
        for customer, rows in _hand_made().items():
            for day, amount in rows:
                _add(customer, datetime(day.year, day.month, day.day, 9, tzinfo=UTC), amount)
        db.session.commit()
        assert recompute_scores(UNTIL)["fit_error"] == ""


def test_empty_state_before_any_purchase(app, client, make_user, login):
    make_user()
    login()
    page = client.get("/analytics/").get_data(as_text=True)
    assert "data-empty-state" in page and "data-segments" not in page


def test_segments_in_persian_and_english(app, client, make_user, login):
    _scored(app)
    make_user()
    make_user("en@example.ir", role="admin", locale="en")
    login()
    fa = client.get("/analytics/")
    assert fa.status_code == 200
    html = fa.get_data(as_text=True)
    assert "قهرمانان" in html and "از دست رفته" in html and "data-pareto-share" in html
    assert "Champions" not in html
    assert 'data-segment="champions"' in html and "data-top-customers" in html
    english = _login(app.test_client(), "en@example.ir")
    en = english.get("/analytics/").get_data(as_text=True)
    assert "Champions" in en and "Can&#39;t lose them" in en and "قهرمانان" not in en
    assert "of customers bring" in en


def test_recompute_needs_admin_settings_and_shows_progress(app, client, make_user, login):
    _purchases(app, [(1, 1, 500), (2, 3, 700)])
    make_user("manager@example.ir", role="manager")
    make_user()
    login("manager@example.ir")
    page = client.get("/analytics/")
    assert page.status_code == 200 and "data-recompute" not in page.get_data(as_text=True)
    token = csrf_from(page)
    assert client.post("/analytics/recompute", data={"csrf_token": token}).status_code == 403
    client = _login(app.test_client(), "admin@example.ir")
    page = client.get("/analytics/")
    response = client.post("/analytics/recompute", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and "job=" in response.headers["Location"]
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-job-status="done"' in done and 'data-segment="champions"' in done


def test_role_without_analytics_view_is_refused(app, client, make_user, login):
    from core.auth.models import Role

    with app.app_context():
        db.session.add(Role(name="clerk", permissions=["core.dashboard", "customers.view"]))
        db.session.commit()
    make_user("clerk@example.ir", role="clerk")
    login("clerk@example.ir")
    assert client.get("/analytics/").status_code == 403
    assert "data-widget-segments" not in client.get("/").get_data(as_text=True)


def test_dashboard_widget_counts_segments(app, client, make_user, login):
    _scored(app)
    make_user()
    login()
    html = client.get("/").get_data(as_text=True)
    assert "data-widget-segments" in html and "/analytics/" in html
