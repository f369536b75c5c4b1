"""Helpers for portal tests: a customer with contact points, the code the app sent, sign-in."""

import re

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from

MOBILE = "+989123456789"


def make_customer(app, name="مریم احمدی", mobiles=(MOBILE,), emails=("maryam@example.ir",)) -> int:
    from core.customers.services import create_customer

    with app.test_request_context():
        customer = create_customer(display_name=name, mobiles=list(mobiles), emails=list(emails))
        db.session.commit()
        return customer.id


def sent_code(app, to: str = MOBILE) -> str:
    """The code in the last message the app queued to ``to`` (from the outbox, not the log)."""
    from core.messaging import MessageLog
    from core.outbox.models import OutboxMessage

    with app.app_context():
        log = db.session.scalars(select(MessageLog).where(MessageLog.to == to)
                                 .order_by(MessageLog.id.desc())).first()
        assert log is not None, f"nothing was sent to {to}"
        assert not re.search(r"\d{6}", log.preview), "the code leaked into the delivery log"
        text = db.session.get(OutboxMessage, log.outbox_id).payload["text"]
        return re.search(r"\b(\d{6})\b", text).group(1)


def ask_code(client, address: str = "09123456789"):
    page = client.get("/portal/sign-in")
    return client.post("/portal/sign-in", data={"address": address,
                                                "csrf_token": csrf_from(page)})


def enter_code(client, code: str):
    page = client.get("/portal/code")
    return client.post("/portal/code", data={"code": code, "csrf_token": csrf_from(page)})


def portal_sign_in(app, client, address: str = "09123456789", to: str = MOBILE):
    """Sign a customer in to the portal through the real forms."""
    assert ask_code(client, address).status_code == 302
    response = enter_code(client, sent_code(app, to))
    assert response.status_code == 302, response.data[:500]
    return client
