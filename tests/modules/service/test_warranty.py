"""Warranty claims: covered or expired on the claim's day; items entered by hand; the pages."""

from datetime import UTC, date, datetime, timedelta

import jdatetime
import pytest
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _customer(name="مشتری"):
    from core.customers.services import create_customer

    return create_customer(last_name=name)


def _item(customer, serial, until, **kw):
    from modules.service import installed

    return installed.save_item(None, customer_id=customer.id, product_name="یخچال",
                               serial=serial, purchased_on=date(2019, 1, 1),
                               warranty_until=until, **kw)


def test_a_warranty_claim_is_covered_or_expired_on_the_day_it_is_made(app):
    from modules.service import installed, tickets

    with app.test_request_context():
        customer, other = _customer(), _customer("دیگری")
        _item(customer, "sn-۱۰۰", date(2030, 1, 1))
        old = _item(customer, "SN-200", date(2024, 6, 1))
        _item(other, "SN-300", date(2030, 1, 1))
        db.session.commit()
        covered = tickets.create_ticket(customer=customer, subject="Noise", type="warranty",
                                        serial=" SN-100 ")
        expired = tickets.create_ticket(customer=customer, subject="Leak", type="warranty",
                                        serial="sn-200")
        foreign = tickets.create_ticket(customer=customer, subject="Not mine", type="warranty",
                                        serial="SN-300")
        question = tickets.create_ticket(customer=customer, subject="Q", serial="SN-100")
        db.session.commit()
        assert covered.warranty_covered is True and covered.installed_item_id is not None
        assert (expired.warranty_covered, expired.installed_item_id) == (False, old.id)
        assert (foreign.warranty_covered, foreign.installed_item_id) == (None, None)
        assert question.warranty_covered is None
        foreign.serial = "SN-100"  # the agent corrects the serial
        db.session.commit()
        assert foreign.warranty_covered is True
        assert installed.warranty_status(customer.id, "SN-200", on_day=date(2024, 6, 1)) \
            == "covered"
        assert installed.warranty_status(customer.id, "SN-200", on_day=date(2024, 6, 2)) \
            == "expired"
        assert installed.warranty_status(customer.id, "nope") == "unknown"
        assert installed.warranty_status(other.id, "SN-100") == "unknown"


def test_the_claim_day_not_today_decides(app):
    from modules.service import installed, tickets

    with app.test_request_context():
        customer = _customer()
        _item(customer, "A1", date(2024, 6, 1))
        ticket = tickets.create_ticket(
            customer=customer, subject="Old claim", type="request", serial="A1",
            at=datetime(2024, 5, 30, 8, tzinfo=UTC))
        db.session.commit()
        assert ticket.warranty_covered is None
        ticket.type = "warranty"
        db.session.commit()
        assert ticket.warranty_covered is True
        assert installed.check_warranty(ticket) == "covered"


def test_item_by_hand_follows_the_default_term_and_refuses_nonsense(app):
    from modules.service import installed
    from modules.service.models.assets import WarrantyTerm

    with app.test_request_context():
        customer = _customer()
        db.session.add(WarrantyTerm(product_id=None, months=6))
        item = installed.save_item(None, customer_id=customer.id, product_name="اتو",
                                   purchased_on=date(2024, 3, 20))
        assert item.warranty_until == date(2024, 9, 22)  # 1403/01/01 + 6 → 1403/07/01
        with pytest.raises(installed.AssetError):
            installed.save_item(None, customer_id=customer.id, product_name=" ")
        with pytest.raises(installed.AssetError):
            installed.save_item(None, customer_id=customer.id, product_name="اتو",
                                purchased_on=date(2024, 3, 20),
                                warranty_until=date(2024, 3, 1))


def test_assets_pages_list_search_add_and_the_customer_panel(app, client, make_user, login):
    from modules.service.models.assets import InstalledItem, WarrantyTerm

    make_user(seats=["service"])
    with app.test_request_context():
        customer = _customer("رضایی")
        _item(customer, "OLD-1", date(2020, 1, 1))
        db.session.commit()
        customer_id = customer.id
    login()
    empty = client.get("/service/assets?q=nothing-like-this")
    assert b"No item matches" in empty.data
    form = client.get(f"/service/assets/new?customer={customer_id}")
    bad = client.post("/service/assets/new", data={
        "csrf_token": csrf_from(form), "customer_id": customer_id, "product_name": "",
        "serial": "x"})
    assert b"Name the product" in bad.data
    saved = client.post("/service/assets/new", data={
        "csrf_token": csrf_from(form), "customer_id": customer_id, "product_name": "تلویزیون",
        "serial": "tv-۴۲", "purchased_on": "۱۴۰۳/۰۱/۰۱",
        "warranty_until": jdatetime.date.fromgregorian(
            date=date.today() + timedelta(days=400)).strftime("%Y/%m/%d")})
    assert saved.status_code == 302, saved.data[:800]
    with app.app_context():
        item = db.session.execute(select(InstalledItem).filter_by(serial="TV-42")).scalar_one()
        assert item.purchased_on == date(2024, 3, 20)
    listing = client.get("/service/assets?q=tv-42")
    assert "تلویزیون".encode() in listing.data and b"OLD-1" not in listing.data
    by_name = client.get("/service/assets?q=رضايي&coverage=expired")
    assert b"OLD-1" in by_name.data and b"TV-42" not in by_name.data
    terms = client.get("/service/assets/warranty-terms")
    assert client.post("/service/assets/warranty-terms", data={
        "csrf_token": csrf_from(terms), "product_id": "0", "months": "۲۴"}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(WarrantyTerm.months)).scalar() == 24
    show = client.get(f"/customers/{customer_id}")
    assert b'data-panel="installed-base"' in show.data
    assert b'data-coverage="covered"' in show.data and b'data-coverage="expired"' in show.data
