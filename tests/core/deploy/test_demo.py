"""``crm demo``: a Persian company with teams and users, within the trial's seats; idempotent."""

from sqlalchemy import func, select

from tests.conftest import csrf_from


def _counts(app) -> dict:
    from core.auth.models import Seat, Team, User
    from core.extensions import db
    from core.models import Setting

    with app.app_context():
        return {model.__name__: db.session.execute(select(func.count()).select_from(model))
                .scalar_one() for model in (User, Team, Seat, Setting)}


def test_demo_loads_once_and_runs_again_unchanged(app, runner):
    first = runner.invoke(args=["crm", "demo"])
    assert first.exit_code == 0, first.output
    assert "Sign in at http://127.0.0.1:5000 as admin@peyvand.local / peyvand-demo" in first.output
    counts = _counts(app)
    assert counts["User"] == 4 and counts["Team"] == 2
    with app.app_context():
        from core.admin.services import seats_used
        from core.database import get_setting
        from core.licensing import current_state
        from core.modules import registry

        assert get_setting("company.legal_name") == "شرکت بازرگانی نمونه پیوند"
        for module in registry().loaded:
            assert 1 <= seats_used(module) <= current_state().seats_for(module)
    second = runner.invoke(args=["crm", "demo"])
    assert second.exit_code == 0, second.output
    assert "Demo data is already loaded." in second.output
    assert _counts(app) == counts


def test_demo_admin_signs_in(app, runner, client):
    runner.invoke(args=["crm", "demo"])
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"email": "admin@peyvand.local",
                                                "password": "peyvand-demo",
                                                "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_modules_add_demo_steps(app, runner):
    from core.demo import add_demo_step

    seen = []
    add_demo_step(app, "probe", lambda ctx: seen.append(sorted(ctx.users)))
    runner.invoke(args=["crm", "demo"])
    assert seen and "admin@peyvand.local" in seen[0]


def test_demo_has_customers_purchases_and_scores(app, runner):
    from core.analytics.models import CustomerScore, Purchase
    from core.customers.models import Customer, Task
    from core.extensions import db

    assert runner.invoke(args=["crm", "demo"]).exit_code == 0

    def count(model):
        with app.app_context():
            return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    counts = {m.__name__: count(m) for m in (Customer, Purchase, CustomerScore, Task)}
    assert counts["Customer"] == 64
    assert counts["Purchase"] > 150 and counts["Task"] > 5
    with app.app_context():
        segments = set(db.session.execute(select(CustomerScore.segment)).scalars())
        assert len(segments) >= 4  # the RFM grid has something to show
        scored = db.session.execute(select(func.count()).select_from(CustomerScore)
                                    .where(CustomerScore.p_alive.is_not(None))).scalar_one()
        assert scored == counts["CustomerScore"]  # the lifetime-value fit converged
    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    assert {m.__name__: count(m) for m in (Customer, Purchase, CustomerScore, Task)} == counts
