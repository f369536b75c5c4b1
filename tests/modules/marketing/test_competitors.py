"""Competitors: CRUD with products and prices (Persian digits), notes, and the sales deals lost
to them matched by normalised name."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _lost_deals(app):
    """Deals lost to «ديجي كالا» (Arabic letters), to another, one won."""
    from core.customers.services import create_customer
    from modules.sales.models.pipeline import Deal, Pipeline, Stage
    from modules.sales.pipeline import close_deal

    with app.app_context():
        c = create_customer(first_name="رضا", last_name="تست")
        p = Pipeline(name="p")
        db.session.add(p)
        db.session.flush()
        s = Stage(pipeline_id=p.id, name="s")
        db.session.add(s)
        db.session.flush()
        ids = []
        for title, status, competitor in (("Laptops", "lost", "ديجي  كالا"),
                                          ("Printers", "lost", "Other shop"),
                                          ("Cables", "won", "")):
            d = Deal(title=title, customer_id=c.id, pipeline_id=p.id, stage_id=s.id,
                     value=7_000_000)
            db.session.add(d)
            db.session.flush()
            close_deal(d, status, lost_reason="price" if status == "lost" else "",
                       competitor=competitor)
            ids.append(d.id)
        db.session.commit()
        return ids


def test_crud_products_prices_notes_and_lost_deals(app, client, make_user, login):
    from modules.marketing.models.competitors import Competitor, CompetitorProduct

    make_user(seats=["marketing", "sales"], locale="en")
    deal_ids = _lost_deals(app)
    login()
    page = client.get("/marketing/competitors")
    assert b"No competitors yet" in page.data
    form = client.get("/marketing/competitors/new")
    bad = client.post("/marketing/competitors/new", data={"csrf_token": csrf_from(form),
                                                           "name": " "})
    assert bad.status_code == 200 and b"is-invalid" in bad.data
    done = client.post("/marketing/competitors/new", data={
        "csrf_token": csrf_from(form), "name": "دیجی کالا", "website": "digikala.com",
        "strengths": "ارسال سریع"})
    assert done.status_code == 302
    again = client.post("/marketing/competitors/new", data={
        "csrf_token": csrf_from(form), "name": "ديجي  كالا"})
    assert b"already exists" in again.data
    with app.app_context():
        comp = db.session.execute(select(Competitor)).scalar_one()
        assert comp.website == "https://digikala.com"
        cid = comp.id
    show = client.get(f"/marketing/competitors/{cid}")
    text = show.get_data(as_text=True)
    assert re.findall(r'data-deal="(\d+)"', text) == [str(deal_ids[0])]
    assert f"/sales/deals/{deal_ids[0]}" in text
    token = csrf_from(show)
    client.post(f"/marketing/competitors/{cid}/products", data={
        "csrf_token": token, "name": "لپ‌تاپ", "price": "۲۸۵٬۰۰۰٬۰۰۰", "seen_on": "1404/09/01"})
    bad = client.post(f"/marketing/competitors/{cid}/products", data={
        "csrf_token": token, "name": "x", "price": "abc"})
    assert bad.status_code == 422
    client.post(f"/marketing/competitors/{cid}/notes", data={
        "csrf_token": token, "title": "Price rise", "body": "five percent"})
    with app.app_context():
        [product] = db.session.execute(select(CompetitorProduct)).scalars().all()
        assert product.name == "لپ‌تاپ" and product.seen_on is not None
        assert product.price == 285_000_000  # rials (the default display unit)
        pid = product.id
    text = client.get(f"/marketing/competitors/{cid}").get_data(as_text=True)
    assert "Price rise" in text and f'data-product="{pid}"' in text
    listing = client.get("/marketing/competitors").get_data(as_text=True)
    assert re.search(r"data-lost>1<", listing)
    edit = client.get(f"/marketing/competitors/{cid}/edit")
    client.post(f"/marketing/competitors/{cid}/edit", data={
        "csrf_token": csrf_from(edit), "name": "Digikala", "weaknesses": "گران"})
    assert client.get("/marketing/competitors?q=digi").get_data(as_text=True).count(
        "data-competitor=") == 1
    client.post(f"/marketing/competitors/{cid}/products/{pid}/delete",
                data={"csrf_token": token})
    client.post(f"/marketing/competitors/{cid}/delete", data={"csrf_token": token})
    with app.app_context():
        assert db.session.execute(select(Competitor)).first() is None


def test_lost_deals_need_sales_and_writes_need_manage(app, client, make_user, login,
                                                      monkeypatch):
    import core.modules
    from modules.marketing.competitors import lost_deals, save_competitor

    make_user("agent@example.ir", role="agent", seats=["marketing"], locale="en")
    _lost_deals(app)
    with app.app_context():
        comp = save_competitor(None, name="ديجي كالا")
        db.session.commit()
        assert [d["title"] for d in lost_deals(comp)] == ["Laptops"]
        real = core.modules.is_active
        monkeypatch.setattr(core.modules, "is_active",
                            lambda name: name != "sales" and real(name))
        assert lost_deals(comp) == []
        cid = comp.id
    login("agent@example.ir")
    page = client.get(f"/marketing/competitors/{cid}")
    assert page.status_code == 200 and b"data-product-form" not in page.data
    assert client.post(f"/marketing/competitors/{cid}/delete",
                       data={"csrf_token": csrf_from(page)}).status_code == 403


def test_pages_in_persian(app, client, make_user, login):
    from modules.marketing.competitors import add_note, add_product, save_competitor

    make_user(seats=["marketing", "sales"], locale="fa")
    _lost_deals(app)
    with app.app_context():
        comp = save_competitor(None, name="ديجي كالا", strengths="ارسال سریع\nتنوع")
        add_product(comp, name="لپ‌تاپ", price=285_000_000)
        add_note("افزایش قیمت", "پنج درصد", comp)
        db.session.commit()
        cid = comp.id
    login()
    listing = client.get("/marketing/competitors").get_data(as_text=True)
    assert re.search(r"data-lost>۱<", listing)
    page = client.get(f"/marketing/competitors/{cid}").get_data(as_text=True)
    assert "۲۸۵٬۰۰۰٬۰۰۰" in page and "ارسال سریع<br>تنوع" in page and "افزایش قیمت" in page
    assert 'data-deal="' in page
