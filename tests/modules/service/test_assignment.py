"""Round-robin assignment inside a team: order, who counts as an agent, the cursor."""

import pytest

from core.extensions import db
from tests.modules.service.ticket_helpers import make_customer, make_team, make_ticket, user_id


@pytest.fixture
def team(app, make_user):
    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    make_user("c@example.ir", role="agent")
    make_user("off@example.ir", role="agent")
    make_user("other@example.ir", role="agent")
    team_id = make_team(app, "Support", "a@example.ir", "b@example.ir", "c@example.ir",
                        "off@example.ir")
    make_team(app, "Sales desk", "other@example.ir")
    with app.app_context():
        from core.auth.models import User

        db.session.query(User).filter_by(email="off@example.ir").one().active = False
        db.session.commit()
    return team_id


def _owners(app, ids):
    from modules.service.models.tickets import Ticket

    with app.app_context():
        return [db.session.get(Ticket, i).owner_id for i in ids]


def test_tickets_go_round_the_team_in_order(app, team):
    customer = make_customer(app)
    ids = [make_ticket(app, customer, team=team, subject=f"T{i}") for i in range(7)]
    a, b, c = (user_id(app, e) for e in ("a@example.ir", "b@example.ir", "c@example.ir"))
    assert _owners(app, ids) == [a, b, c, a, b, c, a]  # inactive and other teams skipped
    from modules.service.models.tickets import TeamCursor, Ticket

    with app.app_context():
        assert db.session.get(TeamCursor, team).last_user_id == a
        ticket = db.session.get(Ticket, ids[0])
        assigned = [e for e in ticket.events if e.kind == "assign"]
        assert assigned[0].data["how"] == "round_robin"


def test_a_category_routes_to_its_team_and_a_chosen_owner_wins(app, team):
    from modules.service.models.tickets import Category, Ticket
    from modules.service.tickets import create_ticket

    customer = make_customer(app)
    with app.test_request_context():
        from core.customers.models import Customer

        category = Category(name="Delivery", team_id=team)
        db.session.add(category)
        db.session.flush()
        first = create_ticket(customer=db.session.get(Customer, customer), subject="x",
                              category=category)
        chosen = create_ticket(customer=db.session.get(Customer, customer), subject="y",
                               category=category, owner=user_id(app, "c@example.ir"))
        db.session.commit()
        assert first.team_id == team and first.owner_id == user_id(app, "a@example.ir")
        assert chosen.owner_id == user_id(app, "c@example.ir")
        assert db.session.query(Ticket).count() == 2


def test_nobody_in_the_team_leaves_the_ticket_unassigned(app, make_user):
    from modules.service.assignment import team_agents

    make_user("v@example.ir", role="agent", seats=[])
    team_id = make_team(app, "Empty")
    customer = make_customer(app)
    ticket = make_ticket(app, customer, team=team_id)
    assert _owners(app, [ticket]) == [None]
    with app.app_context():
        assert team_agents(team_id) == []


@pytest.mark.postgres
def test_concurrent_assignments_never_pick_the_same_agent(app, team):
    """Eight assignments at once on PostgreSQL: the locked cursor hands out a strict rotation."""
    import threading
    from collections import Counter

    from modules.service.assignment import next_agent

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks need PostgreSQL")
    picks, errors = [], []
    barrier = threading.Barrier(8)

    def work():
        with app.app_context():
            try:
                barrier.wait()
                picks.append(next_agent(team))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = Counter(picks)
    assert len(counts) == 3 and sorted(counts.values()) == [2, 3, 3]
