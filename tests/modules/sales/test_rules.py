"""Cross-sell and up-sell: association rules against hand-computed values, thresholds,
suggestions, the report page, the recompute job and the customer 360 card."""

from datetime import date
from fractions import Fraction as F
from itertools import count

import pytest
from sqlalchemy import insert, select

from core.database import utcnow
from core.extensions import db
from tests.conftest import csrf_from
from tests.core.test_translations import latin_in
from tests.modules.sales.document_helpers import make_buyer, make_product

NUMBERS = count(1)
EVERYTHING = {"min_support": 0.0, "min_confidence": 0.0, "min_lift": 0.0, "min_count": 1}


def add_invoices(app, customer_id, baskets, *, kind="invoice", status="posted"):
    """Invoices written straight to the tables, one per basket (a list of product ids; None is
    a free-text line). Returns their ids."""
    from modules.sales.models.documents import Invoice, InvoiceLine

    ids = []
    with app.app_context():
        for basket in baskets:
            posted = {"fiscal_year": 1404, "number": next(NUMBERS), "issue_date": date.today(),
                      "posted_at": utcnow()} if status == "posted" else {}
            invoice_id = db.session.execute(insert(Invoice).values(
                kind=kind, status=status, customer_id=customer_id, **posted)
                .returning(Invoice.id)).scalar()
            db.session.execute(insert(InvoiceLine), [
                {"invoice_id": invoice_id, "product_id": product, "position": i,
                 "description": "کالا", "quantity": 1000, "unit_price": 100}
                for i, product in enumerate(basket)])
            ids.append(invoice_id)
        db.session.commit()
    return ids


@pytest.fixture
def shop(app):
    """Products A–E and five posted invoices (plus a credit note and a draft to ignore):

        1: A B C (A twice)   2: A B (and a free-text line)   3: A C   4: B C   5: A B D

    N = 5; n(A) = 4, n(B) = 4, n(C) = 3, n(D) = 1; n(AB) = 3, n(AC) = n(BC) = 2,
    n(AD) = n(BD) = 1.
    """
    customer = make_buyer(app, owner_email=None)
    a, b, c, d, e = (make_product(app, code=f"P-{x}", name=f"کالای {x}") for x in "ABCDE")
    add_invoices(app, customer, [[a, b, c, a], [a, b, None], [a, c], [b, c], [a, b, d]])
    add_invoices(app, customer, [[a, d], [c, d, e]], kind="credit_note")
    add_invoices(app, customer, [[c, d], [d, e], [a, e]], status="draft")
    return {"customer": customer, "A": a, "B": b, "C": c, "D": d, "E": e}


def mine(app, **limits):
    from modules.sales import rules
    from modules.sales.models.rules import AssociationRule

    with app.app_context():
        rules.set_thresholds(**{**EVERYTHING, **limits})
        db.session.commit()
        rules.mine()
        return {(r.antecedent_id, r.consequent_id): r
                for r in db.session.execute(select(AssociationRule)).scalars()}


def test_rules_equal_the_values_computed_by_hand(app, shop):
    a, b, c, d = shop["A"], shop["B"], shop["C"], shop["D"]
    expected = {  # (support, confidence, lift) = (n(XY)/N, n(XY)/n(X), conf / (n(Y)/N))
        (a, b): (F(3, 5), F(3, 4), F(15, 16)), (b, a): (F(3, 5), F(3, 4), F(15, 16)),
        (a, c): (F(2, 5), F(1, 2), F(5, 6)), (c, a): (F(2, 5), F(2, 3), F(5, 6)),
        (b, c): (F(2, 5), F(1, 2), F(5, 6)), (c, b): (F(2, 5), F(2, 3), F(5, 6)),
        (a, d): (F(1, 5), F(1, 4), F(5, 4)), (d, a): (F(1, 5), F(1, 1), F(5, 4)),
        (b, d): (F(1, 5), F(1, 4), F(5, 4)), (d, b): (F(1, 5), F(1, 1), F(5, 4)),
    }
    found = mine(app)
    assert set(found) == set(expected)  # no C–D or E pairs: credit notes and drafts ignored
    for pair, (support, confidence, lift) in expected.items():
        rule = found[pair]
        assert rule.support == pytest.approx(float(support))
        assert rule.confidence == pytest.approx(float(confidence))
        assert rule.lift == pytest.approx(float(lift))
        assert rule.basket_count == 5
    assert (found[(a, b)].pair_count, found[(a, b)].antecedent_count,
            found[(a, b)].consequent_count) == (3, 4, 4)
    assert found[(c, a)].antecedent_count == 3 and found[(d, a)].antecedent_count == 1


def test_thresholds_filter_and_a_run_replaces_the_old_rules(app, shop):
    a, b, c, d = shop["A"], shop["B"], shop["C"], shop["D"]
    assert set(mine(app, min_lift=1.0)) == {(a, d), (d, a), (b, d), (d, b)}
    assert set(mine(app, min_count=2)) == {(a, b), (b, a), (a, c), (c, a), (b, c), (c, b)}
    assert set(mine(app, min_confidence=0.7)) == {(a, b), (b, a), (d, a), (d, b)}
    assert set(mine(app, min_support=0.5)) == {(a, b), (b, a)}
    assert set(mine(app, min_support=0.5, min_count=4)) == set()


def test_default_thresholds_and_settings(app):
    from modules.sales import rules

    with app.app_context():
        assert rules.thresholds() == rules.DEFAULTS
        rules.set_thresholds(min_lift=2, min_count="5")
        db.session.commit()
        assert rules.thresholds()["min_lift"] == 2.0 and rules.thresholds()["min_count"] == 5
        with pytest.raises(KeyError):
            rules.set_thresholds(maximum=1)


def test_suggestions_exclude_the_basket_and_inactive_products(app, shop):
    from modules.sales import rules
    from modules.sales.models.catalog import Product

    a, b, c, d = shop["A"], shop["B"], shop["C"], shop["D"]
    mine(app)
    with app.app_context():
        ids = lambda s: [x.product.id for x in s.cross_sell]  # noqa: E731
        # by lift: A→D (5/4), A→B (15/16), A→C (5/6)
        assert ids(rules.suggestions_for([a])) == [d, b, c]
        assert ids(rules.suggestions_for([a], limit=2)) == [d, b]
        assert ids(rules.suggestions_for([a, d])) == [b, c]
        suggestion = rules.suggestions_for([a]).cross_sell[0]
        assert suggestion.because.id == a and suggestion.rule.lift == pytest.approx(1.25)
        assert not rules.suggestions_for([])
        db.session.get(Product, d).active = False
        db.session.commit()
        assert ids(rules.suggestions_for([a])) == [b, c]


def test_suggestions_leave_out_what_the_customer_already_bought(app, shop):
    from core.customers.models import Customer
    from modules.sales import rules

    a, b, c, d = shop["A"], shop["B"], shop["C"], shop["D"]
    mine(app)
    other = make_buyer(app, owner_email=None, display_name="بتا", legal_name="شرکت بتا",
                       national_id="", economic_code="", emails=[])
    add_invoices(app, other, [[b]])
    with app.app_context():
        customer = db.session.get(Customer, other)
        assert [s.product.id for s in rules.suggestions_for([a], customer=customer)
                .cross_sell] == [d, c]


def test_up_sell_follows_upgrade_to(app, shop):
    from modules.sales import rules
    from modules.sales.models.catalog import Product

    a, b, e = shop["A"], shop["B"], shop["E"]
    with app.app_context():
        db.session.get(Product, a).upgrade_to_id = e
        db.session.commit()
        up = rules.suggestions_for([a, b]).up_sell
        assert [(s.product.id, s.upgrades.id) for s in up] == [(e, a)]
        assert rules.suggestions_for([a, e]).up_sell == []  # already on the quote
        db.session.get(Product, e).active = False
        db.session.commit()
        assert rules.suggestions_for([a]).up_sell == []


def test_report_shows_pairs_in_persian_digits(app, client, make_user, login, shop):
    mine(app)
    make_user(seats=["sales"], locale="fa")
    login()
    html = client.get("/sales/rules").get_data(as_text=True)
    assert f'data-rule="{shop["A"]}-{shop["B"]}"' in html
    assert "کالای A" in html
    main = html[html.index("<main"):html.index("</main>")]
    assert "۶۰" in main and "۷۵" in main  # support 3/5 and confidence 3/4 in percent
    assert "۰٫۹۴" in main and "۱٫۲۵" in main  # lifts 15/16 and 5/4
    assert not [t for t in latin_in(main) if t.isdigit()]


def test_thresholds_form_for_managers_only(app, client, make_user, login):
    from modules.sales import rules

    make_user(seats=["sales"], locale="fa")
    make_user("agent@example.ir", role="agent", seats=["sales"])
    login()
    page = client.get("/sales/rules")
    saved = client.post("/sales/rules", data={
        "csrf_token": csrf_from(page), "min_support": "۰٫۵", "min_confidence": "۲۰",
        "min_lift": "۱٫۵", "min_count": "۴"})
    assert saved.status_code == 302
    with app.app_context():
        assert rules.thresholds() == pytest.approx(
            {"min_support": 0.005, "min_confidence": 0.2, "min_lift": 1.5, "min_count": 4})
    bad = client.post("/sales/rules", data={
        "csrf_token": csrf_from(page), "min_support": "۱۲۰", "min_confidence": "x",
        "min_lift": "1", "min_count": "0"})
    assert bad.status_code == 200 and "is-invalid" in bad.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login("agent@example.ir")
    page = client.get("/sales/rules")
    assert page.status_code == 200 and "data-rules-recompute" not in page.get_data(as_text=True)
    assert client.post("/sales/rules", data={"csrf_token": csrf_from(page),
                                              "min_count": "1"}).status_code == 403
    assert client.post("/sales/rules/recompute",
                       data={"csrf_token": csrf_from(page)}).status_code == 403


def test_recompute_runs_the_job_with_progress(app, client, make_user, login, shop):
    from core.jobs.progress import JobRecord
    from modules.sales import rules
    from modules.sales.models.rules import AssociationRule

    with app.app_context():
        rules.set_thresholds(**{**EVERYTHING, "min_count": 2})
        db.session.commit()
    make_user(seats=["sales"], locale="fa")
    login()
    page = client.get("/sales/rules")
    response = client.post("/sales/rules/recompute", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and "job=" in response.location
    with app.app_context():
        job = db.session.execute(select(JobRecord).where(JobRecord.kind == rules.KIND)).scalar()
        assert (job.status, job.done, job.total) == ("done", rules.STEPS, rules.STEPS)
        assert job.result == {"baskets": 5, "rules": 6}
        assert db.session.query(AssociationRule).count() == 6
        job_id = job.id
    html = client.get(response.location).get_data(as_text=True)
    assert f'data-job-id="{job_id}"' in html and 'data-job-status="done"' in html
    assert "data-rules-computed" in html
    status = client.get(f"/jobs/{job_id}").get_json()
    assert status["status"] == "done" and status["percent"] == 100


def test_nightly_job_is_registered(app, shop):
    from core import jobs
    from modules.sales import rules
    from modules.sales.models.rules import AssociationRule

    assert jobs.periodic_jobs()["sales.rules"].every == 24 * 3600
    with app.app_context():
        rules.set_thresholds(**EVERYTHING)
        db.session.commit()
        jobs.run_periodic("sales.rules")
        assert db.session.query(AssociationRule).count() == 10


def test_customer_page_card_for_sales_seats_only(app, client, make_user, login, shop):
    mine(app)
    buyer = make_buyer(app, owner_email=None, display_name="بتا", legal_name="شرکت بتا",
                       national_id="", economic_code="", emails=[])
    add_invoices(app, buyer, [[shop["A"]]])
    make_user(seats=["sales"], locale="fa")
    make_user("noseat@example.ir", seats=[])
    login()
    html = client.get(f"/customers/{buyer}").get_data(as_text=True)
    card = html[html.index("data-customer-suggestions"):]
    card = card[:card.index("</div></div>")]
    assert f'data-suggestion="{shop["D"]}"' in card and f'data-suggestion="{shop["B"]}"' in card
    assert f'data-suggestion="{shop["A"]}"' not in card  # already bought
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login("noseat@example.ir")
    html = client.get(f"/customers/{buyer}").get_data(as_text=True)
    assert "data-profile" in html and "data-customer-suggestions" not in html


def test_quote_editor_suggests_and_adds_a_line(app, client, make_user, login, shop):
    from modules.sales.models.catalog import Product

    mine(app)
    with app.app_context():
        db.session.get(Product, shop["A"]).upgrade_to_id = shop["E"]
        db.session.commit()
    make_user(seats=["sales"], locale="fa")
    buyer = make_buyer(app, owner_email=None, display_name="بتا", legal_name="شرکت بتا",
                       national_id="", economic_code="", emails=[])
    login()
    page = client.get("/sales/quotes/new")
    assert "data-suggestions>" not in page.get_data(as_text=True)  # nothing on it yet
    form = {"csrf_token": csrf_from(page), "customer_id": str(buyer),
            "lines-0-product_id": str(shop["A"]), "lines-0-quantity": "۲"}
    html = client.post("/sales/quotes/new", data={**form, "action": "recalc"}).get_data(
        as_text=True)
    box = html[html.index("data-suggestions>"):]
    assert f'value="suggest-{shop["D"]}"' in box and f'value="suggest-{shop["E"]}"' in box
    assert f'value="suggest-{shop["A"]}"' not in box
    html = client.post("/sales/quotes/new", data={**form, "action": f"suggest-{shop['D']}"}
                       ).get_data(as_text=True)
    assert f'<option selected value="{shop["D"]}"' in html or (
        f'value="{shop["D"]}" selected' in html)
    assert 'name="lines-1-quantity"' in html and "data-preview" in html
    assert f'value="suggest-{shop["D"]}"' not in html  # on the quote now
