"""The service cards on the dashboard: my open tickets, SLA at risk, CSAT this month; only for
people with a service seat, within their record scope."""

import re
from datetime import timedelta

from core.extensions import db
from tests.modules.service.test_reports import _user, customer, survey, ticket


def _widget(html, name):
    found = re.search(rf'<div data-service-widget="{name}">.*?</div>\s*</section>', html, re.S)
    return found.group(0) if found else None


def _seed(app, make_user):
    from core.database import utcnow
    from modules.service.tickets import change_status

    make_user(seats=["service"], locale="en")
    make_user("ali@example.ir", role="agent", seats=["service"], locale="fa")
    make_user("sara@example.ir", role="agent", seats=["service"], locale="en")
    make_user("zahra@example.ir", role="agent", seats=["sales"], locale="en")
    now = utcnow()
    with app.test_request_context():
        ali, sara = _user("ali@example.ir"), _user("sara@example.ir")
        c = customer("رضایی")
        pairs = [
            ticket(c, now - timedelta(days=3), owner=ali, sla_state="warning",
                   resolution_due=now + timedelta(hours=1)),
            ticket(c, now - timedelta(days=1), owner=ali, sla_state="breached",
                   resolution_due=now - timedelta(hours=2)),
            ticket(c, now - timedelta(hours=5), owner=ali,
                   resolution_due=now - timedelta(hours=1)),
            ticket(c, now - timedelta(days=2), owner=sara, sla_state="breached"),
        ]
        done = ticket(c, now - timedelta(days=9), owner=ali)[0]
        change_status(done, "closed", by=ali, at=now - timedelta(days=8))
        for t, columns in pairs:
            for name, value in columns.items():
                setattr(t, name, value)
        survey("csat", 5, now - timedelta(minutes=2), c, agent=ali)
        survey("csat", 3, now - timedelta(minutes=1), c, agent=ali)
        survey("csat", 1, now - timedelta(minutes=1), c, agent=sara)
        survey("nps", 10, now - timedelta(minutes=1), c)
        db.session.commit()
        return [t.id for t, _c in pairs]


def test_my_open_tickets_sla_at_risk_and_csat_in_persian(app, client, make_user, login):
    ids = _seed(app, make_user)
    login("ali@example.ir")
    html = client.get("/").get_data(as_text=True)
    mine = _widget(html, "my-tickets")
    assert re.search(r"data-open>۳<", mine) and re.search(r"data-overdue>۲<", mine)
    assert f'data-oldest="{ids[0]}"' in mine and "۳" in mine.split("data-oldest", 1)[1]
    risk = _widget(html, "sla-at-risk")
    assert re.findall(r'data-ticket="(\d+)"', risk) == [str(ids[1]), str(ids[0])]  # breached first
    assert "۱" in re.search(r"data-breached>([^<]*)<", risk).group(1)
    csat = _widget(html, "csat")
    assert re.search(r"data-csat>۴٫۰۰<", csat)  # only Ali's answers
    assert re.search(r"data-csat-count>۲<", csat)
    assert re.search(r'data-nps><span dir="ltr">۱۰۰<', csat)


def test_the_manager_sees_every_ticket_at_risk(app, client, make_user, login):
    ids = _seed(app, make_user)
    login()
    html = client.get("/").get_data(as_text=True)
    risk = _widget(html, "sla-at-risk")
    assert set(re.findall(r'data-ticket="(\d+)"', risk)) == {str(i) for i in ids[:2] + ids[3:]}
    assert re.search(r"data-breached>2 breached<", risk)
    assert re.search(r"data-open>", _widget(html, "my-tickets")) is None  # none of his own
    assert "No open tickets assigned to you" in _widget(html, "my-tickets")
    assert re.search(r"data-csat>3.00<", _widget(html, "csat"))


def test_no_service_cards_without_a_service_seat(app, client, make_user, login):
    _seed(app, make_user)
    login("zahra@example.ir")
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-service-widget" not in html
    assert "My open tickets" not in html and "SLA at risk" not in html
    assert "CSAT this month" not in html


def test_cards_link_to_the_ticket_page(app, client, make_user, login):
    if not any(r.rule.startswith("/service/tickets/<int:") for r in app.url_map.iter_rules()):
        app.add_url_rule("/service/tickets/<int:ticket_id>", "stand_in_ticket",
                         lambda ticket_id: str(ticket_id))
    ids = _seed(app, make_user)
    login("ali@example.ir")
    html = client.get("/").get_data(as_text=True)
    assert f'href="/service/tickets/{ids[0]}"' in _widget(html, "my-tickets")
    assert f'href="/service/tickets/{ids[1]}"' in _widget(html, "sla-at-risk")
