"""The admin outbox page: counts, filters, dead letters, retry; inline relay after a request."""

from flask import Blueprint

from core import outbox
from core.auth.permissions import public
from core.extensions import csrf, db
from core.outbox import OutboxMessage
from tests.conftest import csrf_from

DOWN = {"value": True}
SENT: list[int] = []


@outbox.handler("test.admin")
def deliver(payload: dict, message) -> None:
    if DOWN["value"]:
        raise TimeoutError("accounting server did not answer")
    SENT.append(payload["n"])


def make_dead(app, count: int) -> list[int]:
    DOWN["value"] = True
    with app.app_context():
        ids = [outbox.enqueue("test.admin", {"n": n}).id for n in range(count)]
        db.session.execute(OutboxMessage.__table__.update().values(
            status="dead", attempts=8, last_error="TimeoutError: accounting server did not answer"))
        outbox.enqueue("test.other", {}, key="delivered-one")
        db.session.execute(OutboxMessage.__table__.update()
                           .where(OutboxMessage.kind == "test.other").values(status="delivered"))
        db.session.commit()
    return ids


def test_page_shows_counts_dead_letters_and_filters(app, make_user, login, client):
    make_dead(app, 2)
    make_user("admin@example.ir", role="admin")
    login("admin@example.ir")
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert 'href="/admin/outbox/"' in page  # core menu entry
    assert 'data-count="dead">۲<' in page and 'data-count="delivered">۱<' in page
    assert page.count("accounting server did not answer") >= 2
    filtered = client.get("/admin/outbox/?status=delivered&kind=test.other").get_data(as_text=True)
    assert filtered.count('data-status="delivered"') == 1 and 'data-status="dead"' not in filtered


def test_retry_all_dead_delivers_once_the_remote_is_back(app, make_user, login, client):
    SENT.clear()
    make_dead(app, 3)
    make_user("admin@example.ir", role="admin")
    login("admin@example.ir")
    page = client.get("/admin/outbox/")
    DOWN["value"] = False
    assert client.post("/admin/outbox/retry-dead", data={}).status_code == 400  # CSRF
    response = client.post("/admin/outbox/retry-dead", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert sorted(SENT) == [0, 1, 2]
    with app.app_context():
        assert outbox.status_counts() == {"pending": 0, "delivered": 4, "dead": 0}


def test_agents_may_not_see_the_outbox(app, make_user, login, client):
    make_user("agent@example.ir", role="agent")
    login("agent@example.ir")
    assert client.get("/admin/outbox/").status_code == 403
    page = client.get("/")
    assert client.post("/admin/outbox/1/retry",
                       data={"csrf_token": csrf_from(page)}).status_code == 403


def test_a_request_that_enqueues_triggers_a_relay_after_commit(app, client):
    SENT.clear()
    DOWN["value"] = False
    bp = Blueprint("outboxtest", __name__)

    @bp.route("/outboxtest", methods=["POST"])
    @public
    def view():
        outbox.enqueue("test.admin", {"n": 42})
        db.session.commit()
        assert SENT == []  # not before the response is done
        return "ok"

    csrf.exempt(view)
    app.register_blueprint(bp)
    assert client.post("/outboxtest").status_code == 200
    assert SENT == [42]
