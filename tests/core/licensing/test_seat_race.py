"""Two admins give the last seat at the same moment: exactly one wins (real commits, threads)."""

import threading

import pytest

from config import TestConfig
from core import create_app
from core.extensions import db
from tests.conftest import race_database

ROUNDS = 10


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request, tmp_path):
    """An app on a file SQLite database, or on a fresh PostgreSQL schema."""
    uri, options = race_database(request, tmp_path)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_UPLOAD_DIR=str(tmp_path / "uploads"), CRM_TRIAL_SEATS=3)
    with app.app_context():
        db.create_all()
        from core.bootstrap import ensure_deployment

        ensure_deployment()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _users(app, *emails):
    from core.admin.services import create_or_update_user

    with app.app_context():
        return [create_or_update_user(email=e, password=None, role_name="agent").id
                for e in emails]


def _race(app, user_ids, as_request: bool):
    """Each thread: its own app context and connection; all give the seat at one barrier."""
    from core.admin.services import SeatError, assign_seat
    from core.auth.models import User

    barrier = threading.Barrier(len(user_ids))
    outcomes = {}

    def contender(user_id):
        context = (app.test_request_context("/admin/seats", method="POST") if as_request
                   else app.app_context())
        with context:
            user = db.session.get(User, user_id)
            db.session.commit()  # the admin's page was loaded earlier; now they press the button
            barrier.wait()
            try:
                assign_seat(user, "sales")
                outcomes[user_id] = "won"
            except SeatError as exc:
                outcomes[user_id] = str(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contender, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.parametrize("as_request", [True, False], ids=["web-request", "cli"])
def test_two_admins_give_the_last_seat_at_once(race_app, as_request):
    from core.admin.services import assign_seat, release_seat, seats_used
    from core.auth.models import User

    holders = _users(race_app, "a@x.ir", "b@x.ir")
    with race_app.app_context():
        for uid in holders:
            assign_seat(db.session.get(User, uid), "sales")
    for n in range(ROUNDS):
        contenders = _users(race_app, f"c{n}@x.ir", f"d{n}@x.ir")
        outcomes = _race(race_app, contenders, as_request)
        assert sorted(outcomes.values(), key=lambda v: v != "won")[0] == "won", outcomes
        assert list(outcomes.values()).count("won") == 1, outcomes
        loser = next(v for v in outcomes.values() if v != "won")
        # a web request speaks the default language, Persian (module title, Persian digits);
        # a command speaks English (CRM_CLI_LANGUAGE)
        assert (("در فروش صندلی آزادی وجود ندارد: همهٔ ۳ صندلی مجوز اشغال شده است"
                 if as_request else
                 "No free seat in Sales: all 3 seats of the license are taken.") in loser), loser
        with race_app.app_context():
            assert seats_used("sales") == 3
            winner = next(uid for uid, v in outcomes.items() if v == "won")
            release_seat(db.session.get(User, winner), "sales")  # free it for the next round


def test_the_very_first_seat_of_a_module_raced_by_two_admins(race_app):
    """No lock row exists yet for the module: creating it must not crash the loser."""
    from core.admin.services import seats_used

    race_app.config["CRM_TRIAL_SEATS"] = 1
    for n in range(3):
        module_users = _users(race_app, f"e{n}@x.ir", f"f{n}@x.ir")
        outcomes = _race_module(race_app, module_users)
        results = [outcomes[uid] for uid in module_users]
        assert results.count("won") == 1, outcomes
        loser = next(r for r in results if r != "won")
        assert loser.startswith("No free seat in"), outcomes
        with race_app.app_context():
            assert seats_used(outcomes["module"]) == 1


def _race_module(app, user_ids):
    """Race for the only seat of a module nobody has had a seat in yet."""
    from core.admin.services import SeatError, assign_seat
    from core.auth.models import User
    from core.modules import registry

    with app.app_context():
        taken = {row for row in db.session.execute(db.text("SELECT name FROM core_lock")).scalars()}
        module = next(name for name in registry(app).installed if f"seats:{name}" not in taken)
    barrier = threading.Barrier(len(user_ids))
    outcomes = {"module": module}

    def contender(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            db.session.commit()
            barrier.wait()
            try:
                assign_seat(user, module)
                outcomes[user_id] = "won"
            except SeatError as exc:
                outcomes[user_id] = str(exc)
            except Exception as exc:  # noqa: BLE001 - the assertion names what went wrong
                outcomes[user_id] = f"crashed: {exc.__class__.__name__}: {exc}"
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contender, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes
