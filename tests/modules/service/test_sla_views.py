"""SLA settings pages: calendar hours, holiday import with a bad line, policies, rules, access."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from core.extensions import db
from modules.service import holidays
from modules.service.models.sla import Calendar, EscalationRule, Holiday, SlaPolicy
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", role="admin", seats=["service"], locale="en")
    return login("admin@example.ir")


def default_calendar(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Calendar.id).where(Calendar.is_default.is_(True)))


def test_overview_creates_the_tehran_defaults(app, admin):
    page = admin.get("/service/sla")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Tehran office" in text and "Asia/Tehran" in text  # deployment language: en
    assert text.index("Saturday") < text.index("Friday")
    with app.app_context():
        assert {p.priority for p in db.session.scalars(select(SlaPolicy))} == {
            "urgent", "high", "normal", "low"}


def test_calendar_edit_saves_hours_in_any_digits_and_refuses_bad_ranges(app, admin):
    admin.get("/service/sla")
    calendar_id = default_calendar(app)
    url = f"/service/sla/calendars/{calendar_id}"
    page = admin.get(url)
    assert 'value="۰۸:۰۰-۱۳:۰۰"' in page.get_data(as_text=True) or "08:00-13:00" in \
        page.get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "name": "Tehran office", "timezone": "Asia/Tehran",
            "is_default": "y", "day_5": "۰۸:۰۰-۱۲:۰۰، 13:00-17:00", "day_6": "08:00-17:00",
            "day_0": "08:00-17:00", "day_1": "08:00-17:00", "day_2": "08:00-17:00",
            "day_3": "08:00-14:00", "day_4": ""}
    bad = admin.post(url, data={**form, "day_3": "17:00-08:00"})
    assert "the end must come after the start" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Calendar, calendar_id).hours["3"] == [[480, 780]]
    saved = admin.post(url, data=form)
    assert saved.status_code == 302
    with app.app_context():
        hours = db.session.get(Calendar, calendar_id).hours
        assert hours["5"] == [[480, 720], [780, 1020]]
        assert hours["3"] == [[480, 840]] and hours["4"] == []


def upload(client, calendar_id, content: bytes, year="1404", name="holidays.csv"):
    page = client.get(f"/service/sla/calendars/{calendar_id}/holidays?year={year}")
    return client.post(f"/service/sla/calendars/{calendar_id}/holidays/import", data={
        "csrf_token": csrf_from(page), "year": year,
        "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_holiday_import_reports_bad_lines_and_imports_nothing(app, admin):
    admin.get("/service/sla")
    calendar_id = default_calendar(app)
    bad = upload(admin, calendar_id, "jalali_date,name\n1404/01/01,نوروز\n1404/13/01,غلط\n"
                 "1403/12/29,ملی شدن نفت\n1404/03/14,\n".encode())
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'data-error-line="3"' in text and "has no month 13" in text
    assert 'data-error-line="4"' in text and "is not in the year 1404" in text
    assert 'data-error-line="5"' in text and "Give the holiday a name" in text
    with app.app_context():
        assert db.session.scalars(select(Holiday)).all() == []
    good = upload(admin, calendar_id, "\ufeffjalali_date,name\n۱۴۰۴/۰۱/۰۱,نوروز\n"
                  "1404/01/13,سیزده به در\n1404/12/29,ملی شدن نفت\n".encode())
    assert good.status_code == 302
    with app.app_context():
        days = {h.day: h.name for h in db.session.scalars(select(Holiday))}
        assert days == {date(2025, 3, 21): "نوروز", date(2025, 4, 2): "سیزده به در",
                        date(2026, 3, 20): "ملی شدن نفت"}
    listing = admin.get(f"/service/sla/calendars/{calendar_id}/holidays?year=1404")
    assert "سیزده به در" in listing.get_data(as_text=True)


def test_load_fixed_holidays_for_a_year(app, admin):
    admin.get("/service/sla")
    calendar_id = default_calendar(app)
    page = admin.get(f"/service/sla/calendars/{calendar_id}/holidays?year=1404")
    for _twice in range(2):
        response = admin.post(f"/service/sla/calendars/{calendar_id}/holidays/fixed",
                              data={"csrf_token": csrf_from(page), "year": "۱۴۰۴"})
        assert response.status_code == 302
    with app.app_context():
        days = sorted(h.day for h in db.session.scalars(select(Holiday)))
    assert len(days) == 10  # loaded twice, kept once
    assert days[:4] == [date(2025, 3, 21), date(2025, 3, 22), date(2025, 3, 23),
                        date(2025, 3, 24)]
    assert date(2026, 2, 11) in days and date(2026, 3, 20) in days  # 22 Bahman, 29 Esfand


def test_policy_create_validation(app, admin, monkeypatch):
    assert "Club tier" in admin.get("/service/sla/policies/new").get_data(as_text=True)
    from modules.service.views import sla_policies

    monkeypatch.setattr(sla_policies, "is_active", lambda name: name != "loyalty")
    page = admin.get("/service/sla/policies/new")
    assert "Club tier" not in page.get_data(as_text=True)  # only while the club is active
    base = {"csrf_token": csrf_from(page), "name": "VIP urgent", "priority": "urgent",
            "customer_tag_id": "", "calendar_id": "", "warn_percent": "80", "position": "0",
            "active": "y"}
    zero = admin.post("/service/sla/policies/new", data={
        **base, "first_hours": "0", "first_minutes": "0", "resolution_hours": "4"})
    assert zero.status_code == 400
    assert "first-response target of at least one minute" in zero.get_data(as_text=True)
    backwards = admin.post("/service/sla/policies/new", data={
        **base, "first_hours": "5", "resolution_hours": "2", "warn_percent": "150"})
    text = backwards.get_data(as_text=True)
    assert "cannot be due before the first response" in text
    assert "between 1 and 100" in text
    ok = admin.post("/service/sla/policies/new", data={
        **base, "first_hours": "۱", "first_minutes": "30", "resolution_hours": "8"})
    assert ok.status_code == 302
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "VIP urgent"))
        assert (policy.first_response_minutes, policy.resolution_minutes) == (90, 480)


def test_rule_create_needs_a_target_to_reassign(app, admin):
    page = admin.get("/service/sla/rules/new")
    base = {"csrf_token": csrf_from(page), "name": "Move late ones",
            "trigger": "resolution_breach", "priority": "", "action": "reassign",
            "target_user_id": "", "target_team_id": "", "active": "y"}
    refused = admin.post("/service/sla/rules/new", data=base)
    assert "Choose the person or the team" in refused.get_data(as_text=True)
    notify = admin.post("/service/sla/rules/new", data={**base, "action": "notify"})
    assert notify.status_code == 302
    with app.app_context():
        rule = db.session.scalar(select(EscalationRule))
        assert (rule.action, rule.trigger, rule.target_user_id) == (
            "notify", "resolution_breach", None)
    overview = admin.get("/service/sla").get_data(as_text=True)
    assert "Move late ones" in overview and "Resolution late" in overview


def test_agents_cannot_manage_sla(app, make_user, login):
    make_user("agent@example.ir", role="agent", seats=["service"])
    client = login("agent@example.ir")
    assert client.get("/service/sla").status_code == 403
    assert client.get("/service/sla/policies/new").status_code == 403


def test_read_file_xlsx_and_header_problems(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["jalali_date", "name"])
    sheet.append(["1404/02/01", "test"])
    sheet.append(["not a date", "x"])
    book.save(tmp_path / "h.xlsx")
    with pytest.MonkeyPatch.context():
        from flask import Flask
        from flask_babel import Babel

        flask_app = Flask("t")
        Babel(flask_app)
        with flask_app.app_context():
            result = holidays.read_file(tmp_path / "h.xlsx", 1404)
            assert [line for line, _m in result.errors] == [3]
            (tmp_path / "h.csv").write_text("day,occasion\n1404/01/01,x\n")
            header = holidays.read_file(tmp_path / "h.csv")
            assert header.errors[0][0] == 1 and "jalali_date" in header.errors[0][1]


def test_pages_render_in_persian(app, make_user, login):
    make_user("fa@example.ir", role="admin", seats=["service"], locale="fa")
    client = login("fa@example.ir")
    overview = client.get("/service/sla").get_data(as_text=True)
    assert 'dir="rtl"' in overview and "Asia/Tehran" in overview
    assert "۰۸:۰۰-۱۷:۰۰" in overview  # hours in Persian digits
    calendar_id = default_calendar(app)
    page = client.get(f"/service/sla/calendars/{calendar_id}/holidays?year=1404")
    client.post(f"/service/sla/calendars/{calendar_id}/holidays/fixed",
                data={"csrf_token": csrf_from(page), "year": "1404"})
    listing = client.get(f"/service/sla/calendars/{calendar_id}/holidays?year=1404")
    text = listing.get_data(as_text=True)
    assert "۱۴۰۴" in text and 'data-holiday="2025-03-21"' in text
    for url in ("/service/sla/policies/new", "/service/sla/rules/new",
                f"/service/sla/calendars/{calendar_id}", "/service/sla/calendars/new",
                f"/service/sla/calendars/{calendar_id}/holidays?year=99999"):
        assert client.get(url).status_code == 200, url
