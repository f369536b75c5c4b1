"""The accounting API: journal with lines and filters (keyset pages), one entry, delivery
states and retry, the period export; permissions; 404 while the module is inactive."""

from datetime import date

import pytest

from core.extensions import db
from tests.modules.accounting_link.accounting_server import AccountingServer
from tests.modules.service.ticket_helpers import bearer_for


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en", "OUTBOX_BACKOFF_BASE": 0.001,
            "OUTBOX_BACKOFF_CAP": 0.002, "OUTBOX_MAX_ATTEMPTS": 1}


def _post(app, key, source_id, kind="manual", amount=500, day=None, role="bank:cash"):
    from datetime import UTC, datetime

    from modules.accounting_link.journal import Leg, post_entry

    with app.app_context():
        occurred = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) if day else None
        entry = post_entry(kind=kind, source_type="test.doc", source_id=source_id, key=key,
                           legs=[Leg(role, debit=amount), Leg("revenue", credit=amount)],
                           occurred_at=occurred, reference=f"D-{source_id}")
        db.session.commit()
        return entry.id


@pytest.fixture
def books(app, make_user):
    make_user(seats=["accounting_link"])
    ids = {"march": _post(app, "a", 1, day=date(2026, 3, 25)),
           "april": _post(app, "b", 2, kind="payment", amount=700, day=date(2026, 4, 10),
                          role="bank:card"),
           "may": _post(app, "c", 3, day=date(2026, 5, 5))}
    return ids


def test_journal_lists_entries_with_lines_filters_and_pages(app, client, books):
    auth = bearer_for(app, "admin@example.ir")
    listed = client.get("/api/v1/accounting/journal?size=2", headers=auth)
    assert listed.status_code == 200
    first = listed.json
    assert [e["id"] for e in first["items"]] == [books["may"], books["april"]]
    rest = client.get(f"/api/v1/accounting/journal?size=2&after={first['next']}",
                      headers=auth).json
    assert [e["id"] for e in rest["items"]] == [books["march"]] and rest["next"] is None
    april = first["items"][1]
    assert (april["kind"], april["total"], april["date"]) == ("payment", 700, "2026-04-10")
    assert april["date_jalali"] == "1405-01-21"
    assert [(line["account_code"], line["debit"], line["credit"]) for line in april["lines"]] == [
        ("1102", 700, 0), ("4101", 0, 700)]
    period = client.get("/api/v1/accounting/journal?from=1405/01/10&to=2026-04-30",
                        headers=auth).json
    assert [e["id"] for e in period["items"]] == [books["april"]]
    by_kind = client.get("/api/v1/accounting/journal?kind=manual", headers=auth).json
    assert [e["id"] for e in by_kind["items"]] == [books["may"], books["march"]]
    by_account = client.get("/api/v1/accounting/journal?account=1102", headers=auth).json
    assert [e["id"] for e in by_account["items"]] == [books["april"]]
    wrong = client.get("/api/v1/accounting/journal?from=2026-05-01&to=2026-04-01", headers=auth)
    assert wrong.status_code == 422
    assert wrong.json["errors"]["to"] == ["The end of the period is before its start."]
    garbled = client.get("/api/v1/accounting/journal?from=yesterday", headers=auth)
    assert garbled.status_code == 422 and "from" in garbled.json["errors"]
    one = client.get(f"/api/v1/accounting/journal/{books['march']}", headers=auth)
    assert one.json["reference"].endswith("-1") and len(one.json["lines"]) == 2
    assert client.get("/api/v1/accounting/journal/9999", headers=auth).status_code == 404


def test_outbox_states_and_retry(app, client, make_user):
    from modules.accounting_link.delivery import save_connector

    make_user(seats=["accounting_link"])
    with AccountingServer(status=500) as server:
        with app.app_context():
            connector = save_connector(None, name="Books", url=server.url, timeout=2)
            server.secret = connector.secret
            db.session.commit()
        _post(app, "a", 1)
        _post(app, "b", 2)
        with app.app_context():
            from core.outbox import relay_once

            relay_once()  # one attempt allowed: both dead
        auth = bearer_for(app, "admin@example.ir")
        dead = client.get("/api/v1/accounting/outbox?status=dead", headers=auth).json["items"]
        assert [(d["entry_reference"].split("-")[1], d["status"], d["attempts"]) for d in dead] \
            == [("2", "dead", 1), ("1", "dead", 1)]
        assert "answered 500" in dead[0]["last_error"]
        assert client.get("/api/v1/accounting/outbox?status=delivered",
                          headers=auth).json["items"] == []
        server.status = 200
        retried = client.post(f"/api/v1/accounting/outbox/{dead[1]['id']}/retry", headers=auth)
        assert retried.status_code == 200
        assert (retried.json["status"], retried.json["attempts"]) == ("pending", 0)
        states = {d["id"]: d["status"] for d in
                  client.get("/api/v1/accounting/outbox", headers=auth).json["items"]}
        assert states == {dead[1]["id"]: "delivered", dead[0]["id"]: "dead"}
        again = client.post(f"/api/v1/accounting/outbox/{dead[1]['id']}/retry", headers=auth)
        assert again.status_code == 409
        assert client.post("/api/v1/accounting/outbox/9999/retry",
                           headers=auth).status_code == 404
        assert len(server.accepted) == 1


def test_export_answers_the_period_file(app, client, books, monkeypatch):
    from modules.accounting_link import exports

    calls = []

    def fake(name):
        def export(start, end):
            calls.append((name, start, end))
            return f"{name} {start} {end}".encode()
        return export

    for name in ("export_csv", "export_xlsx", "export_beancount"):
        monkeypatch.setattr(exports, name, fake(name), raising=False)
    auth = bearer_for(app, "admin@example.ir")
    csv = client.get("/api/v1/accounting/export?from=1405/01/01&to=1405/12/29", headers=auth)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.data == b"export_csv 2026-03-21 2027-03-20"
    assert "journal-2026-03-21-2027-03-20.csv" in csv.headers["Content-Disposition"]
    bean = client.get("/api/v1/accounting/export?from=2026-04-01&to=2026-04-30&format=beancount",
                      headers=auth)
    assert bean.data == b"export_beancount 2026-04-01 2026-04-30"
    xlsx = client.get("/api/v1/accounting/export?from=2026-04-01&to=2026-04-30&format=xlsx",
                      headers=auth)
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert client.get("/api/v1/accounting/export?from=2026-04-01",
                      headers=auth).status_code == 422
    assert client.get("/api/v1/accounting/export?from=2026-04-01&to=2026-04-30&format=pdf",
                      headers=auth).status_code == 422
    assert len(calls) == 3


def test_export_of_the_real_exporter_is_a_csv_of_the_lines(app, client, books):
    auth = bearer_for(app, "admin@example.ir")
    answer = client.get("/api/v1/accounting/export?from=2026-03-21&to=2026-04-30", headers=auth)
    assert answer.status_code == 200
    assert b"1102" in answer.data and b"4101" in answer.data and b"700" in answer.data


def test_permissions_and_inactive_module(app, client, books, make_user, monkeypatch):
    from core.admin.roles import save_role

    with app.app_context():
        save_role(None, name="bookkeeper", permissions=["accounting_link.view"], scopes={})
        save_role(None, name="outsider", permissions=["customers.view"], scopes={})
    make_user("view@example.ir", role="bookkeeper", seats=["accounting_link"])
    make_user("out@example.ir", role="outsider", seats=["accounting_link"])
    viewer = bearer_for(app, "view@example.ir")
    assert client.get("/api/v1/accounting/journal", headers=viewer).status_code == 200
    assert client.post("/api/v1/accounting/outbox/1/retry", headers=viewer).status_code == 403
    outsider = bearer_for(app, "out@example.ir")
    assert client.get("/api/v1/accounting/journal", headers=outsider).status_code == 403
    import core.modules

    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active",
                        lambda name: name != "accounting_link" and real(name))
    assert client.get("/api/v1/accounting/journal", headers=viewer).status_code == 404
