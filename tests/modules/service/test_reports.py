"""Service reports: exact figures from tickets built through the write path, CSAT/NPS on both
sides of a Jalali month boundary (Shahrivar 31 / Mehr 1, 1404, Tehran time), top complainers,
record scope."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from flask_login import login_user

from core.extensions import db

T0 = datetime(2025, 9, 10, 6, 0, tzinfo=UTC)  # 1404/06/19
LAST_OF_SHAHRIVAR = datetime(2025, 9, 22, 20, 0, tzinfo=UTC)  # 1404/06/31 23:30 Tehran
FIRST_OF_MEHR = datetime(2025, 9, 22, 21, 0, tzinfo=UTC)  # 1404/07/01 00:30 Tehran
H = timedelta(hours=1)


def _user(email):
    from core.auth.models import User

    return db.session.query(User).filter_by(email=email).one()


def customer(name: str):
    from core.customers.services import create_customer

    return create_customer(kind="person", last_name=name)


def ticket(who, at, owner=None, type="request", category=None, **columns):
    """A ticket opened at ``at`` through the write path; ``columns`` are set afterwards."""
    from modules.service.tickets import create_ticket

    t = create_ticket(customer=who, subject="موضوع", body="متن", type=type, at=at,
                      owner=owner, category=category)
    return t, columns


def settle(pairs):
    """Set the SLA cache columns last (the SLA engine fills them in real life)."""
    for t, columns in pairs:
        for name, value in columns.items():
            setattr(t, name, value)
    db.session.flush()


def survey(kind, score, at, who, agent=None, team=None, category=None):
    import secrets

    from modules.service.models.surveys import SurveyResponse

    db.session.add(SurveyResponse(kind=kind, score=score, token_hash=secrets.token_hex(32),
                                  customer_id=who.id, agent_id=getattr(agent, "id", None),
                                  team_id=team, category_id=category, sent_at=at,
                                  answered_at=at if score is not None else None))


def seed(app, make_user):
    """Four tickets, one merged duplicate, CSAT and NPS answers; returns names to ids."""
    from modules.service.tickets import add_message, change_status

    make_user(seats=["service"], locale="en")
    make_user("ali@example.ir", role="agent", seats=["service"], name="Ali", locale="en")
    make_user("sara@example.ir", role="agent", seats=["service"], name="Sara", locale="en")
    with app.test_request_context():
        ali, sara = _user("ali@example.ir"), _user("sara@example.ir")
        c = customer("رضایی")
        a = ticket(c, T0, owner=ali, first_response_seconds=3600, resolution_seconds=7200)
        add_message(a[0], "public", "پاسخ", by=ali, at=T0 + H, notify=False)
        change_status(a[0], "closed", by=ali, at=T0 + 2 * H)  # first contact
        b = ticket(c, T0, owner=ali, first_response_seconds=1800, resolution_seconds=36000)
        add_message(b[0], "public", "پاسخ", by=ali, at=T0 + H, notify=False)
        add_message(b[0], "public", "پاسخ دوم", by=ali, at=T0 + 2 * H, notify=False)
        change_status(b[0], "resolved", by=ali, at=T0 + 3 * H)  # two replies
        cc = ticket(c, T0, owner=sara, first_response_seconds=600, resolution_seconds=90000,
                    resolution_breached=True)
        add_message(cc[0], "public", "پاسخ", by=sara, at=T0 + H, notify=False)
        change_status(cc[0], "resolved", by=sara, at=T0 + 2 * H)
        add_message(cc[0], "customer", "هنوز خراب است", at=T0 + 5 * H)  # reopens
        change_status(cc[0], "resolved", by=sara, at=T0 + 30 * H)
        change_status(cc[0], "closed", by=sara, at=T0 + 40 * H)
        d = ticket(c, FIRST_OF_MEHR, first_response_seconds=7200)
        add_message(d[0], "public", "پاسخ", by=ali, at=FIRST_OF_MEHR + H, notify=False)
        dup = ticket(c, T0, owner=ali, first_response_seconds=10, resolution_seconds=10,
                     merged_into_id=a[0].id)
        add_message(dup[0], "public", "پاسخ", by=ali, at=T0 + H, notify=False)
        change_status(dup[0], "closed", by=ali, at=T0 + 2 * H)
        settle([a, b, cc, d, dup])
        for score, at in ((5, LAST_OF_SHAHRIVAR), (4, T0), (2, FIRST_OF_MEHR), (None, T0)):
            survey("csat", score, at, c, agent=ali)
        for score in (10, 9, 7, 3):
            survey("nps", score, LAST_OF_SHAHRIVAR, c)
        for score in (6, 0, 9):
            survey("nps", score, FIRST_OF_MEHR, c)
        db.session.commit()
        return {"ali": ali.id, "sara": sara.id, "tickets": [a[0].id, b[0].id, cc[0].id]}


def _as(email):
    login_user(_user(email))


def _filters(first=(1404, 6), last=(1404, 7), **kw):
    from modules.service.reports import Filters, Period

    return Filters(Period(first, last), **kw)


def test_first_contact_resolution_times_and_sla_compliance(app, make_user):
    from modules.service import reports
    from modules.service.views.reports import hours_minutes, percent

    seed(app, make_user)
    with app.test_request_context():
        _as("admin@example.ir")
        total = reports.totals(_filters())
        assert (total.created, total.resolved, total.fcr) == (4, 3, 1)
        assert total.fcr_rate == pytest.approx(1 / 3)
        assert percent(total.fcr_rate, "fa") == "۳۳٪"
        assert total.first_response == (3600 + 1800 + 600 + 7200) / 4  # 55 minutes
        assert hours_minutes(total.first_response, "fa") == "۰:۵۵"
        assert total.resolution == (7200 + 36000 + 90000) / 3  # 12 h 20 min
        assert hours_minutes(total.resolution, "en") == "12:20"
        assert (total.closed, total.fr_met, total.res_met, total.sla_met) == (2, 2, 1, 1)
        assert percent(total.sla_rate, "en") == "50%"


def test_csat_and_nps_fall_in_their_jalali_month(app, make_user):
    from modules.service import reports

    seed(app, make_user)
    with app.test_request_context():
        _as("admin@example.ir")
        months = reports.monthly(_filters())
        shahrivar, mehr = months[(1404, 6)], months[(1404, 7)]
        assert list(months) == [(1404, 6), (1404, 7)]
        assert (shahrivar.csat_n, shahrivar.csat_avg, shahrivar.csat) == (2, 4.5, [0, 0, 0, 1, 1])
        assert (mehr.csat_n, mehr.csat_avg, mehr.csat) == (1, 2.0, [0, 1, 0, 0, 0])
        assert (shahrivar.nps_n, shahrivar.promoters, shahrivar.detractors) == (4, 2, 1)
        assert shahrivar.nps == 25 and mehr.nps == -33
        assert (shahrivar.created, mehr.created) == (3, 1)
        assert shahrivar.first_response == 2000 and mehr.first_response == 7200
        total = reports.totals(_filters())
        assert total.nps == 0 and total.csat_n == 3
        assert vars(reports.combine(months.values())) == vars(total)
        only_mehr = reports.totals(_filters((1404, 7), (1404, 7)))
        assert (only_mehr.created, only_mehr.resolved, only_mehr.csat_n) == (1, 0, 1)


def test_results_per_agent_and_category(app, make_user):
    from modules.service import reports

    ids = seed(app, make_user)
    with app.test_request_context():
        _as("admin@example.ir")
        agents = reports.breakdown(_filters(), "agent")
        ali, sara, nobody = agents[ids["ali"]], agents[ids["sara"]], agents[None]
        assert (ali.created, ali.resolved, ali.fcr, ali.closed, ali.sla_met) == (2, 2, 1, 1, 1)
        assert (ali.csat_n, ali.csat_avg) == (3, 11 / 3)
        assert (sara.resolved, sara.fcr, sara.closed, sara.sla_met) == (1, 0, 1, 0)
        assert nobody.created == 1 and nobody.nps_n == 0  # NPS is not an agent's
        assert list(agents)[-1] is None


def test_an_agent_sees_only_their_own_tickets_and_answers(app, make_user):
    from modules.service import reports

    seed(app, make_user)
    with app.test_request_context():
        _as("sara@example.ir")
        total = reports.totals(_filters())
        assert (total.created, total.resolved, total.closed, total.csat_n) == (1, 1, 1, 0)
        assert total.nps_n == 7  # the company's NPS


def test_open_tickets_by_age(app, make_user):
    from modules.service import reports
    from modules.service.tickets import change_status

    make_user(seats=["service"])
    now = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        c = customer("کریمی")
        for age in (timedelta(hours=12), timedelta(days=1), timedelta(days=2, hours=12),
                    timedelta(days=6), timedelta(days=8), timedelta(days=45)):
            ticket(c, now - age)
        done = ticket(c, now - timedelta(days=2))[0]
        change_status(done, "closed", at=now - timedelta(days=1))
        db.session.commit()
        _as("admin@example.ir")
        ages = reports.open_ages(_filters(), now=now)
        assert [count for _label, count in ages] == [1, 2, 1, 1, 1]
        with force_locale("en"):
            assert [str(label) for label, _n in ages][0] == "Under a day"


def test_the_customers_who_complain_most(app, make_user):
    from modules.service import reports

    make_user(seats=["service"])
    with app.test_request_context():
        x, y, z = customer("الف"), customer("ب"), customer("ج")
        for who, days in ((x, 0), (x, 1), (x, 1), (z, 0), (z, 2), (z, 2), (y, 3)):
            ticket(who, T0 + timedelta(days=days), type="complaint")
        ticket(y, T0, type="request")
        ticket(y, T0 - timedelta(days=60), type="complaint")  # before the period
        merged = ticket(y, T0, type="complaint")[0]
        merged.merged_into_id = merged.id - 1
        db.session.commit()
        _as("admin@example.ir")
        top = reports.top_complainers(_filters())
        assert [(c.customer_id, c.complaints) for c in top] == [(z.id, 3), (x.id, 3), (y.id, 1)]
        assert top[0].open == 3
