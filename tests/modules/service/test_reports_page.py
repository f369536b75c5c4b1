"""The service report page (fa: Persian digits, Jalali months only) and its CSV exports."""

import csv
import io
import re

from core.extensions import db
from tests.core.test_translations import latin_in
from tests.modules.service.test_reports import seed

PERIOD = "?from=1404-06&to=1404-07"


def _set_locale(app, email, locale):
    from core.auth.models import User

    with app.app_context():
        db.session.query(User).filter_by(email=email).one().locale = locale
        db.session.commit()


def _section(html, name):
    found = re.search(rf'data-report="{name}".*?</section>', html, re.S)
    assert found, f"no {name} section"
    return found.group(0)


def test_the_report_page_in_persian(app, client, make_user, login):
    seed(app, make_user)
    _set_locale(app, "admin@example.ir", "fa")
    login()
    html = client.get("/service/reports" + PERIOD).get_data(as_text=True)
    assert "شهریور ۱۴۰۴" in html and "مهر ۱۴۰۴" in html
    assert re.search(r'data-summary="fcr">.*?data-value>۳۳٪<', html, re.S)
    assert re.search(r'data-summary="first-response">.*?data-value>۰:۵۵<', html, re.S)
    assert re.search(r'data-summary="resolution">.*?data-value>۱۲:۲۰<', html, re.S)
    assert re.search(r'data-summary="sla">.*?data-value>۵۰٪<', html, re.S)
    months = _section(html, "months")
    shahrivar = re.search(r'data-month="1404-06">.*?</tr>', months, re.S).group(0)
    assert re.search(r"data-csat>۴٫۵۰", shahrivar)
    assert re.search(r'data-nps><span dir="ltr">۲۵</span> ', shahrivar)
    mehr = re.search(r'data-month="1404-07">.*?</tr>', months, re.S).group(0)
    assert re.search(r'data-nps><span dir="ltr">-۳۳</span> ', mehr)
    assert re.search(r"data-first-response>۲:۰۰<", mehr)
    assert "data-chart=" in months
    assert re.search(r'data-csat-score="4">۱<', shahrivar)
    assert [w for w in latin_in(html) if w.isdigit()] == []  # no Latin digits
    assert not re.search(r"20[0-9]{2}|۲۰[۰-۹]{2}", html.split("<main", 1)[-1]
                         .replace("1404", ""))  # no Gregorian year
    assert "Sep" not in html and "Oct" not in html


def test_the_report_page_breaks_down_by_agent_and_filters(app, client, make_user, login):
    seed(app, make_user)
    login()
    html = client.get("/service/reports" + PERIOD).get_data(as_text=True)
    agents = _section(html, "agents")
    assert agents.index("Ali") < agents.index("Sara") < agents.index("Unassigned")
    assert re.search(r"Ali</th>\s*<td[^>]*data-created>2<", agents)
    with app.app_context():
        from core.auth.models import Team

        team = Team(name="Support")
        db.session.add(team)
        db.session.commit()
        team_id = team.id
    empty = client.get(f"/service/reports{PERIOD}&team={team_id}").get_data(as_text=True)
    assert re.search(r'data-summary="fcr">.*?data-value>—<', empty, re.S)
    assert "Nothing to show for this period" in _section(empty, "agents")
    assert re.search(r'data-summary="nps">.*?data-value><span dir="ltr">0<', empty, re.S)


def test_an_empty_report_says_what_to_do(app, client, make_user, login):
    make_user(seats=["service"], locale="en")
    login()
    html = client.get("/service/reports").get_data(as_text=True)
    assert "No open tickets" in html and "Choose earlier months above" in html
    assert "No complaints in this period" in html


def test_csv_exports_in_the_users_language(app, client, make_user, login):
    seed(app, make_user)
    login()
    response = client.get("/service/reports/months.csv" + PERIOD)
    assert response.mimetype == "text/csv"
    assert "service-months-1404-06-1404-07.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[0] == "Month" and rows[1][0] == "Shahrivar 1404" and rows[2][0] == "Mehr 1404"
    shahrivar = dict(zip(header, rows[1], strict=True))
    assert shahrivar["Tickets opened"] == "3" and shahrivar["CSAT average"] == "4.50"
    assert shahrivar["NPS"] == "25" and shahrivar["First-contact resolution"] == "33%"
    assert shahrivar["Average resolution (business hours)"] == "12:20"
    ages = client.get("/service/reports/ages.csv").get_data(as_text=True)
    assert ages.lstrip("\ufeff").splitlines()[1] == "Under a day,0"
    _set_locale(app, "admin@example.ir", "fa")
    fa = client.get("/service/reports/months.csv" + PERIOD).get_data(as_text=True)
    assert "\nشهریور 1404," in fa and "\nمهر 1404," in fa


def test_csv_of_agents_and_complainers(app, client, make_user, login):
    seed(app, make_user)
    login()
    agents = client.get("/service/reports/agents.csv" + PERIOD).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(agents.lstrip("\ufeff"))))
    assert [r[0] for r in rows] == ["Agent", "Ali", "Sara", "Unassigned"]
    complainers = client.get("/service/reports/complainers.csv" + PERIOD)
    assert complainers.get_data(as_text=True).lstrip("\ufeff").startswith("Customer,")
    assert client.get("/service/reports/other.csv").status_code == 404


def test_reports_need_service_view(app, client, make_user, login):
    from core.auth.models import Role

    make_user()
    with app.app_context():
        db.session.add(Role(name="reception", permissions=["core.dashboard"]))
        db.session.commit()
    make_user("guest@example.ir", role="reception", seats=["service"])
    login("guest@example.ir")
    assert client.get("/service/reports").status_code == 403
    assert client.get("/service/reports/ages.csv").status_code == 403


def test_the_period_accepts_any_digits_and_says_what_is_wrong(app, client, make_user, login):
    seed(app, make_user)
    login()
    html = client.get("/service/reports?from=۱۴۰۴/۰۷/۱۵").get_data(as_text=True)
    assert "Service reports: Mehr 1404" in html
    assert re.search(r'data-month="1404-07">.*?data-created>1<', html, re.S)
    wrong = client.get("/service/reports?from=1404-13").get_data(as_text=True)
    assert "1404-13 is not a Jalali month" in wrong


def test_top_complainers_link_to_the_customer_page(app, client, make_user, login):
    from tests.modules.service.test_reports import T0, customer, ticket

    make_user(seats=["service"], locale="en")
    with app.test_request_context():
        often, once = customer("پرشکایت"), customer("کم‌شکایت")
        for who in (often, often, once):
            ticket(who, T0, type="complaint")
        db.session.commit()
        ids = often.id, once.id
    login()
    section = _section(client.get("/service/reports" + PERIOD).get_data(as_text=True),
                       "complainers")
    assert re.findall(r'data-customer="(\d+)"', section) == [str(i) for i in ids]
    assert f'href="/customers/{ids[0]}"' in section
    assert re.search(r"data-complaints>2<", section)
