"""Setting monthly sales targets: any digits, rials or tomans, never negative, one per person
and month (saving again updates it), only for people in the manager's scope."""

import re

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.perf_helpers import make_team


def _targets(app):
    from modules.sales.models.targets import SalesTarget

    with app.app_context():
        return {(t.user_id, t.year, t.month): t.amount
                for t in db.session.query(SalesTarget)}


@pytest.fixture
def people(app, make_user):
    make_user(seats=["sales"], locale="fa")
    return make_team(app, make_user)


def test_targets_in_persian_digits_and_tomans_update_the_same_row(app, client, login, people):
    from core.database import set_setting

    with app.app_context():
        set_setting("display.unit", "toman")
        db.session.commit()
    ali, lead = people["ali@example.ir"], people["lead@example.ir"]
    login()
    page = client.get("/sales/targets?month=۱۴۰۴-۰۸")
    html = page.get_data(as_text=True)
    assert f'name="target-{ali}"' in html and "تومان" in html
    response = client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "۱۲٬۵۰۰٬۰۰۰", f"target-{lead}": ""})
    assert response.status_code == 302
    assert _targets(app) == {(ali, 1404, 8): 125_000_000}  # tomans × 10; empty: no target
    page = client.get("/sales/targets?month=1404-08")
    assert 'value="۱۲٬۵۰۰٬۰۰۰"' in page.get_data(as_text=True)  # shown in tomans again
    client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "20000000", f"target-{lead}": "٥٠٠"})
    assert _targets(app) == {(ali, 1404, 8): 200_000_000, (lead, 1404, 8): 5_000}
    # another month is another row; an emptied field removes the target
    client.post("/sales/targets?month=1404-09", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "1"})
    client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "3", f"target-{lead}": ""})
    assert _targets(app) == {(ali, 1404, 8): 30, (ali, 1404, 9): 10}


def test_negative_or_garbled_targets_are_refused_and_nothing_is_saved(app, client, login,
                                                                     people):
    ali, lead = people["ali@example.ir"], people["lead@example.ir"]
    login()
    page = client.get("/sales/targets?month=1404-08")
    response = client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "-۵۰۰", f"target-{lead}": "بسیار"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'id="target-{ali}"[^>]*aria-invalid="true"', html)
    assert re.search(rf'id="target-{lead}"[^>]*aria-invalid="true"', html)
    assert 'value="-۵۰۰"' in html  # what was typed stays in the field
    assert _targets(app) == {}


def test_the_service_keeps_one_row_per_person_and_month(app, people):
    from modules.sales.performance import TargetError, set_target

    ali = people["ali@example.ir"]
    with app.app_context():
        first = set_target(ali, 1404, 8, 1_000)
        again = set_target(ali, 1404, 8, 2_000)
        db.session.commit()
        assert first.id == again.id and again.amount == 2_000
        with pytest.raises(TargetError):
            set_target(ali, 1404, 8, -1)
        with pytest.raises(TargetError):
            set_target(ali, 1404, 13, 5)
    assert _targets(app) == {(ali, 1404, 8): 2_000}


def test_the_database_refuses_a_second_row_for_the_same_month(app, people):
    from sqlalchemy.exc import IntegrityError

    from modules.sales.models.targets import SalesTarget

    ali = people["ali@example.ir"]
    with app.app_context():
        db.session.add_all([SalesTarget(user_id=ali, year=1404, month=8, amount=1),
                            SalesTarget(user_id=ali, year=1404, month=8, amount=2)])
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_manager_sets_targets_for_their_team_only(app, client, login, people):
    ali, reza = people["ali@example.ir"], people["reza@example.ir"]
    login("lead@example.ir")
    page = client.get("/sales/targets?month=1404-08")
    html = page.get_data(as_text=True)
    assert f'name="target-{ali}"' in html
    assert f'name="target-{reza}"' not in html  # another team
    response = client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{ali}": "100", f"target-{reza}": "100"})
    assert response.status_code == 200  # refused as a whole
    assert "alert-danger" in response.get_data(as_text=True)
    assert _targets(app) == {}


def test_an_agent_cannot_open_or_post_targets(app, client, login, people):
    login("ali@example.ir")
    assert client.get("/sales/targets").status_code == 403
    page = client.get("/sales/performance")
    response = client.post("/sales/targets?month=1404-08", data={
        "csrf_token": csrf_from(page), f"target-{people['ali@example.ir']}": "100"})
    assert response.status_code == 403
    assert _targets(app) == {}
