"""Keyset pagination on real rows: every row exactly once, in order, both directions."""

import datetime as dt
import random

import pytest
from flask import request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from core.auth.permissions import public
from core.extensions import db
from core.pagination import PageTokenError, encode_token, keyset_page, request_page, sort_columns
from tests.core.ui.sample import Item, SampleBase

BASE_TIME = dt.datetime(2024, 3, 20, 12, 0, 0)


@pytest.fixture
def items(app):
    """67 rows with many ties in score and in created_at."""
    rng = random.Random(7)
    rows = [
        {"id": i, "name": f"item {i:03d}", "score": rng.randint(0, 5),
         "created_at": BASE_TIME + dt.timedelta(minutes=rng.randint(0, 9))}
        for i in range(1, 68)
    ]
    with app.app_context():
        SampleBase.metadata.create_all(db.engine)
        db.session.execute(insert(Item), rows)
        db.session.commit()
    yield rows
    with app.app_context():
        SampleBase.metadata.drop_all(db.engine)


def walk_forward(stmt, columns, size):
    pages, token = [], None
    while True:
        page = keyset_page(stmt, columns, after=token, size=size)
        pages.append(page)
        if not page.has_next:
            return pages
        assert page.next_token
        token = page.next_token


def ids(page):
    return [item.id for item in page.items]


def test_ascending_walk_visits_every_row_once_and_walks_back(app, items):
    with app.app_context():
        pages = walk_forward(select(Item), [Item.id], size=10)
        expected = [list(range(s, min(s + 10, 68))) for s in range(1, 68, 10)]
        assert [ids(p) for p in pages] == expected
        assert not pages[0].has_prev and pages[0].prev_token is None
        assert all(p.has_prev for p in pages[1:]) and not pages[-1].has_next
        # back from the last page through prev tokens gives the same pages, in reverse
        page, back = pages[-1], []
        while page.has_prev:
            page = keyset_page(select(Item), [Item.id], before=page.prev_token, size=10)
            back.append(ids(page))
        assert back == [ids(p) for p in reversed(pages[:-1])]
        assert not page.has_prev and page.has_next


def test_descending_with_ties_in_the_sort_column(app, items):
    expected = [r["id"] for r in sorted(items, key=lambda r: (-r["score"], -r["id"]))]
    with app.app_context():
        columns = [Item.score.desc(), Item.id.desc()]
        pages = walk_forward(select(Item), columns, size=7)
        seen = [i for p in pages for i in ids(p)]
        assert seen == expected
        assert all(len(p) == 7 for p in pages[:-1])
        middle = pages[4]
        previous = keyset_page(select(Item), columns, before=middle.prev_token, size=7)
        assert ids(previous) == ids(pages[3])
        assert previous.has_next and previous.next_token


def test_mixed_directions_and_datetime_ties(app, items):
    newest_first = sorted(items, key=lambda r: (-r["created_at"].timestamp(), r["id"]))
    expected = [r["id"] for r in newest_first]
    with app.app_context():
        columns = [Item.created_at.desc(), Item.id.asc()]
        pages = walk_forward(select(Item), columns, size=9)
        assert [i for p in pages for i in ids(p)] == expected


def test_column_selects_return_rows_without_the_sort_key(app, items):
    with app.app_context():
        stmt = select(Item.name, Item.score).where(Item.score >= 3)
        page = keyset_page(stmt, [Item.name.desc()], size=5)
        assert [tuple(row) for row in page.items] == sorted(
            ((r["name"], r["score"]) for r in items if r["score"] >= 3), reverse=True)[:5]
        following = keyset_page(stmt, [Item.name.desc()], after=page.next_token, size=5)
        assert following.items[0][0] < page.items[-1][0]


def test_filters_combine_with_the_keyset_condition(app, items):
    with app.app_context():
        stmt = select(Item).where(Item.score == 2).order_by(Item.name)  # caller order is replaced
        pages = walk_forward(stmt, [Item.id], size=3)
        assert [i for p in pages for i in ids(p)] == [r["id"] for r in items if r["score"] == 2]


def test_back_from_rows_that_were_deleted_starts_over(app, items):
    with app.app_context():
        second = keyset_page(select(Item), [Item.id], after=keyset_page(
            select(Item), [Item.id], size=5).next_token, size=5)
        db.session.execute(delete(Item).where(Item.id < 6))
        db.session.commit()
        page = keyset_page(select(Item), [Item.id], before=second.prev_token, size=5)
        assert ids(page) == [6, 7, 8, 9, 10] and not page.has_prev


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=st.lists(st.integers(0, 3), min_size=0, max_size=30),
       size=st.integers(1, 8), descending=st.booleans())
def test_any_data_any_size_each_row_exactly_once(app, scores, size, descending):
    with app.app_context():
        SampleBase.metadata.create_all(db.engine)
        db.session.execute(delete(Item))
        if scores:
            db.session.execute(insert(Item), [
                {"id": i + 1, "name": str(i), "score": s, "created_at": BASE_TIME}
                for i, s in enumerate(scores)])
        db.session.commit()
        sign = -1 if descending else 1
        ordered = sorted(enumerate(scores), key=lambda p: (sign * p[1], sign * p[0]))
        expected = [i + 1 for i, _ in ordered]
        columns = [Item.score.desc(), Item.id.desc()] if descending else [Item.score, Item.id]
        pages = walk_forward(select(Item), columns, size)
        assert [i for p in pages for i in ids(p)] == expected
        assert all(len(p) == size for p in pages[:-1])


@pytest.fixture
def item_view(app, items):
    """A real list view that pages with the query string, as module views do."""

    @public
    def item_list():
        value, columns = sort_columns(
            request.args.get("sort"),
            {"score": Item.score, "name": Item.name}, default="-score", tiebreak=Item.id)
        page = request_page(select(Item), columns, size=10)
        return {"sort": value, "ids": ids(page), "next": page.next_token,
                "prev": page.prev_token}

    app.add_url_rule("/uitest-json/items", "uitest_json_items", item_list)
    return app


def test_view_pages_through_tokens_and_refuses_a_tampered_one(item_view):
    client = item_view.test_client()
    first = client.get("/uitest-json/items?sort=name").get_json()
    assert first["sort"] == "name" and first["prev"] is None
    second = client.get(f"/uitest-json/items?sort=name&after={first['next']}").get_json()
    assert second["ids"] and set(second["ids"]).isdisjoint(first["ids"])

    token = first["next"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = client.get(f"/uitest-json/items?sort=name&after={tampered}")
    assert response.status_code == 400
    # an anonymous visitor sees the default language, Persian
    assert "لینک این صفحه نادرست یا قدیمی است" in response.get_data(as_text=True)

    # a valid token for another sort order is refused too, not applied to the wrong column
    response = client.get(f"/uitest-json/items?sort=-score&after={token}")
    assert response.status_code == 400


def test_unknown_sort_falls_back_to_the_default(item_view):
    body = item_view.test_client().get("/uitest-json/items?sort=password").get_json()
    assert body["sort"] == "-score"


def test_a_token_signed_with_another_secret_is_refused(app, items):
    with app.test_request_context():
        from core.pagination import _sort_keys

        keys = _sort_keys([Item.id])
        token = encode_token(keys, [5])
        assert ids(keyset_page(select(Item), [Item.id], after=token, size=3)) == [6, 7, 8]
        app.config["SECRET_KEY"] = "another deployment"
        with pytest.raises(PageTokenError):
            keyset_page(select(Item), [Item.id], after=token, size=3)
