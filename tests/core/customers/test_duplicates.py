"""Finding duplicates: same mobile, email or code, near-identical names in one city; scoped."""

import random

import pytest
from flask_login import login_user

from core.auth.models import Role, User
from core.customers.duplicates import (
    COMMON_NAME,
    edit_distance,
    edits_allowed,
    find_pairs,
    name_key,
    similar_names,
)
from core.extensions import db
from tests.core.customers.conftest import national_code


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


def test_the_page_lists_pairs_with_their_reasons(app, admin, make_customer):
    same_mobile = (make_customer(first_name="رضا", last_name="نوری", mobiles=["09121234567"]),
                   make_customer(first_name="R.", last_name="Noori", mobiles=["+98 912 123 4567"]))
    same_name = (make_customer(first_name="علی", last_name="کریمی", address={"city": "اصفهان"}),
                 make_customer(first_name="علي", last_name="كرمي", address={"city": "اصفهان "}))
    make_customer(first_name="علی", last_name="کریمی", address={"city": "شیراز"})
    same_code = (make_customer(first_name="مینا", national_code=national_code("111111112")),
                 make_customer(first_name="نسرین", national_code=national_code("111111112")))
    html = admin.get("/customers/duplicates").get_data(as_text=True)
    rows = html.count("data-pair=")
    assert rows == 3, html
    assert f'data-pair="{same_mobile[0]}-{same_mobile[1]}"' in html
    assert f'data-pair="{same_name[0]}-{same_name[1]}"' in html
    assert f'data-pair="{same_code[0]}-{same_code[1]}"' in html
    for reason in ("mobile", "name", "national_code"):
        assert f'data-reason="{reason}"' in html
    assert f"/customers/merge?a={same_name[0]}&amp;b={same_name[1]}" in html
    only_names = admin.get("/customers/duplicates?reason=name").get_data(as_text=True)
    assert only_names.count("data-pair=") == 1


def test_names_match_after_normalisation_and_with_one_typo_in_the_same_city(app, make_user,
                                                                           make_customer):
    admin_id = make_user("admin@example.ir")
    a = make_customer(first_name="محمد‌رضا", last_name="یزدانی", address={"city": "كرج"})
    b = make_customer(first_name="محمد رضا", last_name="يزداني", address={"city": "کرج"})
    c = make_customer(first_name="محمدرضا", last_name="یزدانى", address={"city": "کرج"})
    typo = make_customer(first_name="محمدرضا", last_name="یزدانیی", address={"city": "کرج"})
    make_customer(first_name="محمدرضا", last_name="یزدانی", address={"city": "قم"})
    make_customer(first_name="علیرضا", address={"city": "کرج"})
    make_customer(first_name="علیرضی", address={"city": "کرج"})  # short names: exact only
    make_customer(kind="organisation", legal_name="محمدرضا یزدانی", address={"city": "کرج"})
    with app.test_request_context():
        login_user(db.session.get(User, admin_id))
        pairs = {(p.first_id, p.second_id) for p in find_pairs(["name"])}
    assert pairs == {(a, b), (a, c), (b, c), (a, typo), (b, typo), (c, typo)}


def test_pairs_are_scoped_to_what_the_user_may_see(app, client, make_user, login,
                                                    make_customer):
    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    with app.app_context():
        role = db.session.query(Role).filter_by(name="agent").one()
        role.permissions = [*role.permissions, "customers.merge"]
        db.session.commit()
    mine = make_customer("a@example.ir", first_name="الف", emails=["x@example.ir"])
    mine_too = make_customer("a@example.ir", first_name="ب", emails=["X@example.ir"])
    make_customer("b@example.ir", first_name="پ", emails=["x@example.ir"])
    login("a@example.ir")
    html = client.get("/customers/duplicates").get_data(as_text=True)
    assert html.count("data-pair=") == 1 and f'data-pair="{mine}-{mine_too}"' in html


def test_the_empty_page_says_what_to_do(admin, make_customer):
    make_customer(first_name="تنها")
    html = admin.get("/customers/duplicates").get_data(as_text=True)
    assert "data-empty-state" in html and "/customers/merge" in html


def test_blocking_finds_exactly_the_pairs_a_full_comparison_finds():
    rng = random.Random(7)
    letters = "ابپتسجدرزشعفکگلمنوهی"
    base = ["".join(rng.choice(letters) for _ in range(rng.randint(5, 20))) for _ in range(150)]
    names = []
    for word in base:
        names.append(word)
        for _copy in range(rng.randint(0, 2)):
            chars = list(word)
            for _edit in range(rng.randint(1, 2)):
                i = rng.randrange(len(chars))
                op = rng.choice("ids")
                if op == "i":
                    chars.insert(i, rng.choice(letters))
                elif op == "d" and len(chars) > 1:
                    del chars[i]
                else:
                    chars[i] = rng.choice(letters)
            names.append("".join(chars))
    keys = dict(enumerate(names))
    expected = set()
    for i in keys:
        for j in keys:
            if i < j:
                limit = edits_allowed(max(len(keys[i]), len(keys[j])))
                if edit_distance(keys[i], keys[j], limit) <= limit:
                    expected.add((i, j))
    assert set(similar_names(keys)) == expected
    assert len(expected) > 50


def test_common_names_are_not_evidence():
    keys = {i: name_key("علی محمدی") for i in range(COMMON_NAME + 1)}
    assert list(similar_names(keys)) == []
    assert len(list(similar_names(dict(list(keys.items())[:3])))) == 3


def test_edit_distance():
    assert edit_distance("کریمی", "کریمی", 1) == 0
    assert edit_distance("کریمی", "کرمی", 1) == 1
    assert edit_distance("کریمی", "رحیمی", 1) == 2  # over the limit: limit + 1
    assert edits_allowed(7) == 0 and edits_allowed(8) == 1 and edits_allowed(16) == 2
