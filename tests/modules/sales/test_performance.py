"""Rep performance: achieved net of credit notes, win rate, deal size, cycle length, the
leaderboard and team totals for a Jalali month (Tehran time), and who sees whose numbers."""

import re

import pytest

from core.extensions import db
from tests.core.test_translations import latin_in
from tests.modules.sales.deal_helpers import make_customer, seed_pipeline
from tests.modules.sales.document_helpers import make_buyer, make_invoice, make_product, user
from tests.modules.sales.perf_helpers import (
    closed_deal,
    make_team,
    set_posted_at,
    tehran,
    total_of,
)

ABAN, AZAR = (1404, 8), (1404, 9)


@pytest.fixture
def sales(app, make_user):
    """Aban 1404: Ali wins two deals (one at 23:30 on its last day), loses one, and posts an
    invoice that a credit note partly reverses; Sara wins one and loses one; Reza's invoice
    has no owner (so it counts for its creator). Things on the first minutes of Azar do not
    count in Aban."""
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice
    from modules.sales.performance import set_target

    make_user(seats=["sales"], locale="fa")  # admin
    ids = make_team(app, make_user)
    stage = seed_pipeline(app)["stages"][0]
    customer = make_customer(app)
    last_evening = tehran(1404, 8, 30, 23, 30)  # 20:00 UTC, still Aban in Tehran
    azar_first = tehran(1404, 9, 1, 0, 10)  # 20:40 UTC on the same Gregorian day
    closed_deal(app, "ali@example.ir", customer, stage, 10_000_000, "won", last_evening, 10)
    closed_deal(app, "ali@example.ir", customer, stage, 30_000_000, "won",
                tehran(1404, 8, 12), 4)
    closed_deal(app, "ali@example.ir", customer, stage, 99_000_000, "lost",
                tehran(1404, 8, 5), 2)
    closed_deal(app, "ali@example.ir", customer, stage, 7_000_000, "won", azar_first, 1)
    closed_deal(app, "sara@example.ir", customer, stage, 50_000_000, "won",
                tehran(1404, 8, 1, 0, 5), 3)
    closed_deal(app, "sara@example.ir", customer, stage, 1_000_000, "lost",
                tehran(1404, 7, 30, 23, 55), 3)  # Mehr: not counted
    closed_deal(app, "sara@example.ir", customer, stage, 2_000_000, "lost",
                tehran(1404, 8, 20), 3)
    buyer = make_buyer(app)
    product = make_product(app, price=1_000_000)
    ali_invoice = make_invoice(app, buyer, [{"product_id": product, "quantity": 5}],
                               email="ali@example.ir", post=True)
    set_posted_at(app, ali_invoice, tehran(1404, 8, 30, 23, 59))
    with app.test_request_context("/", method="POST"):
        note = invoices.create_credit_note(
            db.session.get(Invoice, ali_invoice), [{"product_id": product, "quantity": 2}],
            by=user("ali@example.ir"))
        db.session.commit()
        note_id = note.id
    from tests.modules.sales.document_helpers import post_invoice

    post_invoice(app, note_id, "ali@example.ir")
    set_posted_at(app, note_id, tehran(1404, 8, 30, 23, 59))
    later = make_invoice(app, buyer, [{"product_id": product, "quantity": 3}],
                         email="ali@example.ir", post=True)
    set_posted_at(app, later, tehran(1404, 9, 1, 0, 1))  # Azar
    reza_invoice = make_invoice(app, buyer, [{"product_id": product, "quantity": 9}],
                                email="reza@example.ir", post=True)
    set_posted_at(app, reza_invoice, tehran(1404, 8, 15), owner_id=None)
    with app.app_context():
        set_target(ids["ali@example.ir"], *ABAN, 10_000_000)
        set_target(ids["reza@example.ir"], *ABAN, 5_000_000)
        set_target(ids["reza@example.ir"], *AZAR, 1_000_000)
        db.session.commit()
    return {"ids": ids, "ali_net": total_of(app, ali_invoice) - total_of(app, note_id),
            "ali_invoice": total_of(app, ali_invoice), "note": total_of(app, note_id),
            "later": total_of(app, later), "reza": total_of(app, reza_invoice)}


def _report(app, email, first=ABAN, last=None):
    from core.auth.models import User
    from modules.sales.performance import Period, performance

    with app.test_request_context():
        viewer = db.session.query(User).filter_by(email=email).one()
        report = performance(Period(first, last or first), viewer)
        people = {r.user.email: r for r in report.people}
        return report, people


def test_figures_of_a_jalali_month_in_tehran_time(app, sales):
    report, people = _report(app, "admin@example.ir")
    ali = people["ali@example.ir"].figures
    assert sales["note"] > 0 and sales["ali_net"] == sales["ali_invoice"] - sales["note"]
    assert ali.achieved == sales["ali_net"]  # the credit note reduces it; Azar's is left out
    assert ali.target == 10_000_000
    assert ali.percent == sales["ali_net"] * 100 // 10_000_000
    assert (ali.won, ali.lost, ali.won_value) == (2, 1, 40_000_000)  # 23:30 on 30 Aban counts
    assert ali.win_rate == 67  # 2 / 3
    assert ali.average_won == 20_000_000
    assert ali.cycle_days == 7.0  # (10 + 4) / 2
    sara = people["sara@example.ir"].figures
    assert (sara.won, sara.lost, sara.achieved) == (1, 1, 0)  # the Mehr loss is not counted
    assert (sara.win_rate, sara.average_won, sara.cycle_days) == (50, 50_000_000, 3.0)
    assert sara.target == 0 and sara.percent is None
    reza = people["reza@example.ir"].figures
    assert reza.achieved == sales["reza"]  # no owner: its creator's
    assert (reza.won, reza.win_rate, reza.average_won, reza.cycle_days) == (0, None, None, None)


def test_the_leaderboard_and_team_totals(app, sales):
    from modules.sales.performance import Period, leaderboard

    report, people = _report(app, "admin@example.ir")
    order = [r.user.email for r in report.people]
    assert sales["reza"] > sales["ali_net"] > 0
    # by achieved; Sara (nothing invoiced) before the ones with nothing on won value
    assert order[:3] == ["reza@example.ir", "ali@example.ir", "sara@example.ir"]
    assert set(order[3:]) == {"lead@example.ir", "admin@example.ir"}  # seats, no figures
    assert [r.rank for r in report.people] == list(range(1, len(order) + 1))
    teams = {t.name: t for t in report.teams}
    tehran_team = teams["تهران"].figures
    assert teams["تهران"].people == 3
    assert (tehran_team.won, tehran_team.lost, tehran_team.win_rate) == (3, 2, 60)
    assert tehran_team.achieved == sales["ali_net"]
    assert tehran_team.average_won == 30_000_000  # 90M / 3
    assert tehran_team.cycle_days == round((10 + 4 + 3) / 3, 1)
    assert teams["شیراز"].figures.achieved == sales["reza"]
    assert report.total.achieved == sales["ali_net"] + sales["reza"]
    with app.test_request_context():
        from core.auth.models import User

        admin = db.session.query(User).filter_by(email="admin@example.ir").one()
        top = leaderboard(Period.month(*ABAN), limit=2, viewer=admin)
        assert [r.user.email for r in top] == ["reza@example.ir", "ali@example.ir"]


def test_a_range_of_months(app, sales):
    _report_, people = _report(app, "admin@example.ir", ABAN, AZAR)
    ali = people["ali@example.ir"].figures
    assert ali.achieved == sales["ali_net"] + sales["later"]
    assert (ali.won, ali.won_value) == (3, 47_000_000)
    reza = people["reza@example.ir"].figures
    assert reza.target == 6_000_000  # Aban's and Azar's


def test_scope_an_agent_sees_only_themselves_a_manager_their_team(app, sales, client, login):
    _r, seen_by_ali = _report(app, "ali@example.ir")
    assert set(seen_by_ali) == {"ali@example.ir"}
    _r, seen_by_lead = _report(app, "lead@example.ir")
    assert set(seen_by_lead) == {"ali@example.ir", "sara@example.ir", "lead@example.ir"}

    ids = sales["ids"]
    login("ali@example.ir")
    html = client.get("/sales/performance?month=1404-08").get_data(as_text=True)
    assert set(re.findall(r'<tr data-user="(\d+)"', html)) == {str(ids["ali@example.ir"])}
    assert "سارا" not in html and "رضا" not in html
    assert client.get("/sales/targets").status_code == 403  # agents do not set targets


def test_a_manager_sees_their_team_on_the_page(app, sales, client, login):
    ids = sales["ids"]
    login("lead@example.ir")
    html = client.get("/sales/performance?month=۱۴۰۴-۰۸").get_data(as_text=True)
    listed = set(re.findall(r'<tr data-user="(\d+)"', html))
    assert listed == {str(ids[e]) for e in ("ali@example.ir", "sara@example.ir",
                                            "lead@example.ir")}


def test_performance_page_in_persian(app, sales, client, login):
    login()
    response = client.get("/sales/performance?month=1404-08")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "آبان ۱۴۰۴" in html
    assert 'href="/sales/performance?month=1404-07"' in html  # previous
    assert 'href="/sales/performance?month=1404-09"' in html  # next
    ali = sales["ids"]["ali@example.ir"]
    row = re.search(rf'<tr data-user="{ali}">.*?</tr>', html, re.S)
    assert "data-win-rate>۶۷" in row.group(0)  # 2 of 3, in Persian digits
    assert "data-cycle>۷٫۰<" in row.group(0)
    for path in ("/sales/performance?month=1404-08", "/sales/performance?month=1404-08&to=1404-09",
                 "/sales/targets?month=1404-08", "/"):
        page = client.get(path).get_data(as_text=True)
        digits = [w for w in latin_in(page) if re.match(r"\d", w)]
        assert digits == [], (path, digits)
    ranged = client.get("/sales/performance?month=1404-08&to=1404-09").get_data(as_text=True)
    assert 'month=1404-06&amp;to=1404-07' in ranged  # the previous two months
