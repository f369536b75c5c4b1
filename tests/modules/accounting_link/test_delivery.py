"""REST connectors: what is queued when an invoice is posted, what the accounting system
receives (payload, idempotency key, signature), retries and dead letters, the deliveries page
(connectors, validation, secret shown once, test message, retry), and the sync widget."""


import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.accounting_server import AccountingServer
from tests.modules.accounting_link.journal_helpers import seed, two_category_invoice


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en", "OUTBOX_BACKOFF_BASE": 0.001,
            "OUTBOX_BACKOFF_CAP": 0.002, "OUTBOX_MAX_ATTEMPTS": 2}


def _connector(app, url, enabled=True, name="Books") -> tuple[int, str]:
    from modules.accounting_link.delivery import save_connector

    with app.app_context():
        connector = save_connector(None, name=name, url=url, timeout=2, enabled=enabled)
        db.session.commit()
        return connector.id, connector.secret


def _messages(app):
    from core.outbox.models import OutboxMessage

    with app.app_context():
        return [(m.kind, m.aggregate, m.key, m.status, m.attempts, m.last_error) for m in
                db.session.execute(select(OutboxMessage).where(
                    OutboxMessage.kind == "accounting.entry").order_by(OutboxMessage.id))
                .scalars()]


def _relay(app, times=1):
    import time

    from core.outbox import relay_once

    with app.app_context():
        for _ in range(times):
            relay_once()
            time.sleep(0.01)


def test_a_posted_invoice_reaches_the_accounting_system_signed_once(app, make_user):
    seeded = seed(app, make_user)
    with AccountingServer() as server:
        connector_id, server.secret = _connector(app, server.url)
        _connector(app, server.url, enabled=False, name="Old books")
        invoice_id = two_category_invoice(app, seeded)
        with app.app_context():
            from modules.accounting_link.journal import by_key

            entry = by_key(f"sales.invoice:{invoice_id}")
            entry_id, number, fiscal_year = entry.id, entry.number, entry.fiscal_year
        key = f"accounting:{connector_id}:{entry_id}"
        assert _messages(app) == [("accounting.entry", f"accounting:sales.invoice:{invoice_id}",
                                   key, "pending", 0, None)]  # not for the disabled one
        _relay(app)
        assert _messages(app)[0][3:5] == ("delivered", 1)
        assert list(server.accepted) == [key]
        assert server.bad_signatures == 0
        headers = server.headers[0]
        assert headers["Idempotency-Key"] == key
        assert headers["X-Peyvand-Signature"].startswith("sha256=")
        assert headers["X-Peyvand-Timestamp"].isdigit()
        sent = server.accepted[key]
    assert (sent["id"], sent["number"], sent["fiscal_year"]) == (entry_id, number, fiscal_year)
    assert sent["reference"] == f"{fiscal_year}-{number}"
    assert sent["kind"] == "invoice"
    assert sent["document"]["type"] == "sales.invoice"
    assert sent["document"]["id"] == invoice_id
    assert sent["customer"]["id"] == seeded["customer"]
    assert sent["date_jalali"].startswith(str(fiscal_year))
    # 2 laptops at 10% off + 1 setup, 100,000 off the document, 10% VAT
    lines = {(line["role"], line["debit"], line["credit"]) for line in sent["lines"]}
    assert ("vat_payable", 0, 256_000) in lines
    assert sum(line["debit"] for line in sent["lines"]) == sum(
        line["credit"] for line in sent["lines"]) == sent["total"]
    assert all(line["account_code"] for line in sent["lines"])


def test_refusals_are_retried_then_dead_then_retried_by_hand(app, client, make_user, login):
    from modules.accounting_link.journal import Leg, post_entry

    make_user(seats=["accounting_link"])
    with AccountingServer(status=503) as server:
        _connector_id, server.secret = _connector(app, server.url)
        with app.app_context():
            post_entry(kind="manual", source_type="test.doc", source_id=1, key="t:1",
                       legs=[Leg("bank:cash", debit=500), Leg("revenue", credit=500)])
            db.session.commit()
        _relay(app, times=4)
        (_kind, _agg, _key, status, attempts, error), = _messages(app)
        assert (status, attempts) == ("dead", 2)
        assert "answered 503" in error
        assert not server.accepted
        login()
        page = client.get("/accounting/deliveries")
        assert b"data-dead-message" in page.data and b"answered 503" in page.data
        with app.app_context():
            from core.outbox.models import OutboxMessage

            message_id = db.session.execute(select(OutboxMessage.id)).scalar()
        server.status = 200
        retried = client.post(f"/accounting/deliveries/{message_id}/retry",
                              data={"csrf_token": csrf_from(page)})
        assert retried.status_code == 302
        assert _messages(app)[0][3] == "delivered"  # the relay ran after the request
        assert list(server.accepted) == ["accounting:1:1"]


def test_a_disabled_connector_fails_what_was_queued_for_it(app, make_user):
    from modules.accounting_link.journal import Leg, post_entry
    from modules.accounting_link.models.delivery import Connector

    with AccountingServer() as server:
        connector_id, server.secret = _connector(app, server.url)
        with app.app_context():
            post_entry(kind="manual", source_type="test.doc", source_id=1, key="t:1",
                       legs=[Leg("bank:cash", debit=500), Leg("revenue", credit=500)])
            db.session.get(Connector, connector_id).enabled = False
            db.session.commit()
        _relay(app)
        assert "the connector is disabled" in _messages(app)[0][5]
        assert not server.accepted


def test_connectors_are_validated_and_the_secret_is_shown_once(app, client, make_user, login):
    make_user(seats=["accounting_link"])
    login()
    form = client.get("/accounting/deliveries/connectors/new")
    token = csrf_from(form)
    with force_locale("en"):
        bad = client.post("/accounting/deliveries/connectors/new", data={
            "csrf_token": token, "name": "Books", "url": "ftp://books.example.ir/x",
            "timeout": "10", "enabled": "y"})
        assert bad.status_code == 400
        assert b"The address must start with http:// or https://." in bad.data
        slow = client.post("/accounting/deliveries/connectors/new", data={
            "csrf_token": token, "name": "Books", "url": "https://books.example.ir/x",
            "timeout": "600"})
        assert slow.status_code == 400
    created = client.post("/accounting/deliveries/connectors/new", data={
        "csrf_token": token, "name": "Books", "url": "https://books.example.ir/x",
        "timeout": "۱۵", "enabled": "y"})
    assert created.status_code == 201
    from modules.accounting_link.models.delivery import Connector

    with app.app_context():
        connector = db.session.execute(select(Connector)).scalar_one()
        assert (connector.url, connector.timeout, connector.enabled) == (
            "https://books.example.ir/x", 15.0, True)
        secret, connector_id = connector.secret, connector.id
    assert secret.encode() in created.data and b"data-connector-secret" in created.data
    again = client.get("/accounting/deliveries")
    assert secret.encode() not in again.data
    twin = client.post("/accounting/deliveries/connectors/new", data={
        "csrf_token": token, "name": "Books", "url": "https://other.example.ir/",
        "timeout": "10"})
    assert twin.status_code == 400 and b"Another connector is named Books." in twin.data
    edited = client.post(f"/accounting/deliveries/connectors/{connector_id}/edit", data={
        "csrf_token": token, "name": "Books 2", "url": "http://127.0.0.1:9/x", "timeout": "5"})
    assert edited.status_code == 302
    toggled = client.post(f"/accounting/deliveries/connectors/{connector_id}/toggle",
                          data={"csrf_token": token})
    assert toggled.status_code == 302
    with app.app_context():
        connector = db.session.get(Connector, connector_id)
        assert (connector.name, connector.timeout, connector.enabled) == ("Books 2", 5.0, True)
        assert connector.secret == secret  # editing keeps the secret


def test_test_message_reports_success_and_failure(app, client, make_user, login):
    make_user(seats=["accounting_link"])
    login()
    with AccountingServer() as server:
        connector_id, server.secret = _connector(app, server.url)
        token = csrf_from(client.get("/accounting/deliveries"))
        ok = client.post(f"/accounting/deliveries/connectors/{connector_id}/ping",
                         data={"csrf_token": token}, follow_redirects=True)
        assert b"Test message accepted by Books." in ok.data
        assert server.pings and server.pings[0]["connector"] == "Books"
        server.status = 500
        failed = client.post(f"/accounting/deliveries/connectors/{connector_id}/ping",
                             data={"csrf_token": token}, follow_redirects=True)
        assert b"Test message to Books failed:" in failed.data
        assert b"answered 500" in failed.data
    assert not server.accepted  # a test message is no entry


def test_viewers_see_deliveries_but_cannot_change_them(app, client, make_user, login):
    from core.admin.roles import save_role

    with app.app_context():
        save_role(None, name="bookkeeper", permissions=["accounting_link.view"], scopes={})
    make_user("view@example.ir", role="bookkeeper", seats=["accounting_link"])
    _connector(app, "https://books.example.ir/x")
    login("view@example.ir")
    page = client.get("/accounting/deliveries")
    assert page.status_code == 200 and b"data-connector=" in page.data
    assert b"connectors/new" not in page.data
    token = csrf_from(page)
    assert client.post("/accounting/deliveries/connectors/1/toggle",
                       data={"csrf_token": token}).status_code == 403
    assert client.post("/accounting/deliveries/retry-dead",
                       data={"csrf_token": token}).status_code == 403


def test_state_polls_while_pending_and_filters_by_status(app, client, make_user, login):
    from modules.accounting_link.journal import Leg, post_entry

    make_user(seats=["accounting_link"])
    _connector(app, "http://127.0.0.1:9/unreachable")
    with app.app_context():
        for i in (1, 2):
            post_entry(kind="manual", source_type="test.doc", source_id=i, key=f"t:{i}",
                       legs=[Leg("bank:cash", debit=500), Leg("revenue", credit=500)])
        db.session.commit()
    login()
    state = client.get("/accounting/deliveries/state")
    assert b'hx-trigger="every 3s"' in state.data
    assert state.data.count(b'data-status="pending"') == 2
    _relay(app, times=3)  # port 9 refuses: dead after two attempts
    dead = client.get("/accounting/deliveries/state?status=dead")
    assert dead.data.count(b'data-status="dead"') == 2
    assert b"hx-trigger" not in dead.data
    none = client.get("/accounting/deliveries/state?status=delivered")
    assert b"No entry has this status." in none.data
    page = client.get("/accounting/deliveries")
    retried = client.post("/accounting/deliveries/retry-dead",
                          data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert b"2 dead deliveries will be delivered again." in retried.data


def test_sync_health_widget(app, client, make_user, login):
    from core.outbox.models import OutboxMessage
    from modules.accounting_link.delivery import health
    from modules.accounting_link.journal import Leg, post_entry

    make_user(seats=["accounting_link"])
    with AccountingServer() as server:
        _connector_id, server.secret = _connector(app, server.url)
        with app.app_context():
            for i in (1, 2, 3):
                post_entry(kind="manual", source_type="test.doc", source_id=i, key=f"t:{i}",
                           legs=[Leg("bank:cash", debit=500), Leg("revenue", credit=500)])
            db.session.commit()
            from core.outbox import relay_once

            relay_once(limit=2)
            db.session.execute(OutboxMessage.__table__.update().where(
                OutboxMessage.key == "accounting:1:2").values(status="dead"))
            db.session.commit()
            figures = health()
            assert (figures["pending"], figures["delivered_today"], figures["dead"]) == (1, 1, 1)
    login()
    home = client.get("/")
    assert b'data-accounting-widget="sync-health"' in home.data
    assert b"The oldest pending entry has waited" in home.data
