"""Saved views of the customer list: save, open, rename, share, delete; private views stay
private (another user gets 404)."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.customers.saved_views import SavedView, clean_query
from core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    """English messages, so assertions on them do not depend on the catalogs."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def two_users(make_user, make_customer):
    make_user("a@example.ir", role="agent", name="آرش")
    make_user("b@example.ir", role="agent", name="بهار")
    make_customer("a@example.ir", first_name="سارا", tags=["ویژه"])
    make_customer("a@example.ir", kind="organisation", legal_name="شرکت نمونه")


def _save(client, query: str, name: str, shared: bool = False, extra: str = ""):
    """Save the view the list page offers for ``query`` (``extra`` added to its query)."""
    page = client.get(f"/customers/?{query}")
    html = page.get_data(as_text=True)
    hidden = re.search(r'<input type="hidden" name="query" value="([^"]*)"', html).group(1)
    data = {"csrf_token": csrf_from(page), "query": hidden.replace("&amp;", "&") + extra,
            "name": name}
    if shared:
        data["shared"] = "y"
    return client.post("/customers/views", data=data)


def _view(app, name: str) -> SavedView:
    with app.app_context():
        return db.session.query(SavedView).filter_by(name=name).one()


def test_save_open_rename_and_delete_a_view(app, client, login, two_users):
    login("a@example.ir")
    query = "q=سارا&kind=person&sort=name&col=segment&custom.size=x"
    response = _save(client, query, "  مشتریان   حقیقی ", extra="&after=abc&evil=1")
    view = _view(app, "مشتریان حقیقی")
    assert response.headers["Location"].endswith(f"/customers/views/{view.id}")
    # page tokens are not part of a view; search, filters, sort and columns are
    assert dict(parse_qsl(view.query)) == {"q": "سارا", "kind": "person", "sort": "name",
                                           "col": "segment", "custom.size": "x"}
    assert not view.shared

    opened = client.get(f"/customers/views/{view.id}")
    assert opened.status_code == 302
    target = urlsplit(opened.headers["Location"])
    assert target.path == "/customers/"
    assert dict(parse_qsl(target.query)) == dict(parse_qsl(view.query))
    listing = client.get(f"{target.path}?{target.query}").get_data(as_text=True)
    assert f'data-saved-view="{view.id}"' in listing and 'aria-current="true"' in listing
    assert len(re.findall(r'data-customer="', listing)) == 1  # only the person

    manage = client.get("/customers/views")
    token = csrf_from(manage)
    prefix = f"v{view.id}-"
    renamed = client.post(f"/customers/views/{view.id}/rename", data={
        prefix + "csrf_token": token, prefix + "name": "افراد", prefix + "shared": "y"})
    assert renamed.status_code == 302
    view = _view(app, "افراد")
    assert view.shared

    assert client.post(f"/customers/views/{view.id}/delete",
                       data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.query(SavedView).count() == 0


def test_a_name_is_required_and_unique_per_user(app, client, login, make_user, two_users):
    login("a@example.ir")
    _save(client, "kind=person", "افراد")
    again = _save(client, "kind=organisation", "افراد")
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You already have a view named افراد." in page
    with app.app_context():
        assert db.session.query(SavedView).count() == 1
    empty = _save(client, "kind=person", "   ")
    assert empty.status_code == 302
    with app.app_context():
        assert db.session.query(SavedView).count() == 1


def test_another_user_cannot_see_rename_or_delete_a_private_view(app, client, login,
                                                                 two_users):
    login("a@example.ir")
    _save(client, "kind=person", "خصوصی")
    _save(client, "kind=organisation", "عمومی", shared=True)
    private, shared = _view(app, "خصوصی"), _view(app, "عمومی")
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/customers/"))})

    login("b@example.ir")
    listing = client.get("/customers/").get_data(as_text=True)
    assert f'data-saved-view="{shared.id}"' in listing
    assert f'data-saved-view="{private.id}"' not in listing and "خصوصی" not in listing
    assert client.get(f"/customers/views/{private.id}").status_code == 404
    assert client.get(f"/customers/views/{shared.id}").status_code == 302
    token = csrf_from(client.get("/customers/views"))
    for view in (private, shared):  # only the owner renames or deletes, shared or not
        prefix = f"v{view.id}-"
        assert client.post(f"/customers/views/{view.id}/rename", data={
            prefix + "csrf_token": token, prefix + "name": "دزدیده"}).status_code == 404
        assert client.post(f"/customers/views/{view.id}/delete",
                           data={"csrf_token": token}).status_code == 404
    assert client.get("/customers/views/999999").status_code == 404
    with app.app_context():
        assert sorted(v.name for v in db.session.query(SavedView)) == ["خصوصی", "عمومی"]
    # the shared view shows b's own customers only (record scope still applies)
    opened = client.get(f"/customers/views/{shared.id}")
    assert re.findall(r'data-customer="', client.get(opened.headers["Location"]).get_data(
        as_text=True)) == []


def test_clean_query_keeps_only_the_list_view():
    assert clean_query("?after=x&q=a&evil=1&custom.vip=1&tag=2&tag=3&size=5") == \
        "custom.vip=1&q=a&tag=2&tag=3"
