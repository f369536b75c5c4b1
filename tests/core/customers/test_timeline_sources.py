"""The 360 timeline shows purchases and the emails/SMS sent to the customer."""

from datetime import UTC, datetime


def test_timeline_lists_purchases_and_messages(app, make_customer):
    from flask_babel import force_locale

    from core.analytics.services import record_purchase
    from core.customers.models import Customer
    from core.customers.timeline import timeline
    from core.extensions import db
    from core.messaging import send_email, send_sms
    from core.messaging.timeline import customer_key

    customer_id = make_customer(first_name="سارا", last_name="رضایی")
    other_id = make_customer(first_name="نادر", last_name="احمدی")
    with app.test_request_context():
        record_purchase(customer_id, 1_250_000, datetime(2026, 5, 1, 9, tzinfo=UTC), "pos",
                        reference="POS-17")
        send_email("sara@example.ir", "Your warranty", text="Hello",
                   customer_key=customer_key(customer_id))
        send_sms("09123456789", "Welcome to the club", customer_key=customer_key(customer_id))
        send_sms("09121111111", "Not hers", customer_key=customer_key(other_id))
        db.session.commit()
        customer = db.session.get(Customer, customer_id)
        fa_title = next(e.title for e in timeline(customer) if e.kind == "purchase")
        assert "۱٬۲۵۰٬۰۰۰" in fa_title  # fa is the default
        with force_locale("en"):
            entries = timeline(customer)
        by_kind = {e.kind: e for e in entries}
        assert "1,250,000" in by_kind["purchase"].title
        assert "point of sale" in by_kind["purchase"].title
        assert by_kind["purchase"].detail == "POS-17"  # in en; «POS-۱۷» in fa
        assert "Your warranty" in by_kind["email"].title
        assert "queued" in by_kind["email"].title
        assert by_kind["sms"].detail == "Welcome to the club"
        assert [e.detail for e in entries if e.kind == "sms"] == ["Welcome to the club"]


def test_merge_handler_moves_messages(app, make_customer):
    from core.customers.merge import merge_customers
    from core.customers.models import Customer
    from core.customers.timeline import timeline
    from core.extensions import db
    from core.messaging import send_sms
    from core.messaging.timeline import customer_key

    keep = make_customer(first_name="الف", last_name="ب")
    lose = make_customer(first_name="الف", last_name="ب")
    with app.test_request_context():
        send_sms("09123456789", "old number", customer_key=customer_key(lose))
        db.session.commit()
        merge_customers(db.session.get(Customer, keep), db.session.get(Customer, lose))
        db.session.commit()
        assert [e.detail for e in timeline(db.session.get(Customer, keep))
                if e.kind == "sms"] == ["old number"]


def test_anonymising_scrubs_the_message_log(app, make_customer):
    from core.customers.anonymise import anonymise_customer
    from core.customers.models import Customer
    from core.extensions import db
    from core.messaging import MessageLog, send_email
    from core.messaging.timeline import customer_key

    customer_id = make_customer(first_name="سارا", last_name="رضایی")
    with app.test_request_context():
        send_email("sara@example.ir", "Your order", text="Dear Sara",
                   customer_key=customer_key(customer_id))
        db.session.commit()
        anonymise_customer(db.session.get(Customer, customer_id))
        db.session.commit()
        row = db.session.query(MessageLog).one()
        assert (row.to, row.subject, row.preview, row.channel) == ("", None, "", "email")
