"""Gapless invoice numbers: 50 postings at once get 50 distinct consecutive numbers, on SQLite
and PostgreSQL (real threads, one app context and connection each, a barrier, real commits);
a posting that fails gives its number back."""

import threading

import pytest
from sqlalchemy import select

from config import TestConfig
from core import create_app
from core.extensions import db
from tests.conftest import race_database

POSTINGS = 50


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request, tmp_path):
    """An app on a file SQLite database, or on a fresh PostgreSQL schema."""
    uri, options = race_database(request, tmp_path)
    # a pool as large as the crowd, so every thread holds its own connection at the barrier
    options = {**options, "pool_size": POSTINGS + 5, "max_overflow": 0}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_UPLOAD_DIR=str(tmp_path / "uploads"), BABEL_DEFAULT_LOCALE="en")
    with app.app_context():
        db.create_all()
        from core.bootstrap import ensure_deployment

        ensure_deployment()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _drafts(app, count: int) -> list[int]:
    from core.admin.services import create_or_update_user
    from core.customers.services import create_customer
    from modules.sales import invoices

    with app.test_request_context():
        user = create_or_update_user(email="admin@example.ir", password=None, role_name="admin")
        customer = create_customer(by=user, kind="person", first_name="مشتری", last_name="یک")
        ids = [invoices.create_invoice(customer, [{"description": "خدمت", "quantity": 1,
                                                   "unit_price": 1000 + n}], by=user).id
               for n in range(count)]
        db.session.commit()
        return ids


def _post_all_at_once(app, invoice_ids, as_request: bool) -> dict:
    from modules.sales.invoices import post_invoice

    barrier = threading.Barrier(len(invoice_ids))
    outcomes = {}

    def poster(invoice_id):
        context = (app.test_request_context("/sales/invoices/post", method="POST")
                   if as_request else app.app_context())
        with context:
            db.session.connection()  # this thread's own connection, taken before the race
            db.session.commit()
            barrier.wait()
            try:
                outcomes[invoice_id] = post_invoice(invoice_id).number
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the assertion names what went wrong
                db.session.rollback()
                outcomes[invoice_id] = f"{exc.__class__.__name__}: {exc}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=poster, args=(i,)) for i in invoice_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


@pytest.mark.parametrize("as_request", [True, False], ids=["web-request", "job"])
def test_fifty_concurrent_postings_get_fifty_consecutive_numbers(race_app, as_request):
    from modules.sales.models.documents import Invoice, NumberSequence

    ids = _drafts(race_app, POSTINGS)
    outcomes = _post_all_at_once(race_app, ids, as_request)
    failures = {k: v for k, v in outcomes.items() if not isinstance(v, int)}
    assert not failures, failures
    assert sorted(outcomes.values()) == list(range(1, POSTINGS + 1))
    with race_app.app_context():
        stored = db.session.execute(select(Invoice.id, Invoice.number, Invoice.fiscal_year)
                                    .order_by(Invoice.number)).all()
        assert [number for _id, number, _year in stored] == list(range(1, POSTINGS + 1))
        assert {row_id: number for row_id, number, _year in stored} == outcomes
        assert len({year for *_rest, year in stored}) == 1
        [sequence] = db.session.execute(select(NumberSequence)).scalars().all()
        assert (sequence.kind, sequence.last_number) == ("invoice", POSTINGS)


def test_a_failed_posting_gives_its_number_back(race_app):
    from core.events import invoice_posted
    from modules.sales.invoices import post_invoice
    from modules.sales.models.documents import Invoice

    first, failing, third = _drafts(race_app, 3)

    def refuse(sender, **kw):
        if kw["invoice_id"] == failing:
            raise RuntimeError("a listener failed")

    invoice_posted.connect(refuse)
    try:
        for invoice_id in (first, failing, third):
            with race_app.test_request_context("/", method="POST"):
                try:
                    post_invoice(invoice_id)
                    db.session.commit()
                except RuntimeError:
                    db.session.rollback()
    finally:
        invoice_posted.disconnect(refuse)
    with race_app.app_context():
        numbers = {i.id: (i.status, i.number) for i in db.session.query(Invoice)}
    assert numbers == {first: ("posted", 1), failing: ("draft", None), third: ("posted", 2)}
