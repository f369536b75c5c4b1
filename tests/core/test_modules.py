"""Module discovery, dependency order, deployment lists and license-driven activation."""

import pytest

from config import TestConfig
from core import create_app
from core.modules import Manifest, ModuleError, discover, resolve


def _m(name, depends=()):
    return Manifest(name=name, title=name, version="1", depends=depends)


def test_all_five_modules_are_installed_with_their_dependencies():
    installed = discover()
    assert set(installed) == {"marketing", "sales", "service", "loyalty", "accounting_link"}
    assert installed["loyalty"].depends == ("sales",)
    assert installed["accounting_link"].depends == ("sales",)
    order = resolve("all", installed)
    assert order.index("sales") < order.index("loyalty")
    assert order.index("sales") < order.index("accounting_link")


def test_unknown_module_is_named():
    with pytest.raises(ModuleError, match="unknown module.*crystal_ball"):
        resolve(["sales", "crystal_ball"], discover())


def test_missing_hard_dependency_stops_start_up():
    with pytest.raises(ModuleError, match="loyalty needs sales, which is not enabled"):
        resolve(["loyalty"], discover())


def test_dependency_cycle_is_reported():
    installed = {"a": _m("a", ("b",)), "b": _m("b", ("c",)), "c": _m("c", ("a",))}
    with pytest.raises(ModuleError, match="cycle: a -> b -> c -> a"):
        resolve(["a", "b", "c"], installed)


def test_create_app_refuses_a_bad_module_list(tmp_path):
    with pytest.raises(ModuleError, match="accounting_link needs sales"):
        create_app(TestConfig, CRM_MODULES=["accounting_link"],
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}")


@pytest.fixture
def app_overrides():
    return {"CRM_MODULES": ["sales", "service"]}


def test_modules_not_loaded_have_no_urls(app, client, make_user, login):
    make_user(seats=["sales", "service"])
    login()
    assert client.get("/sales/", follow_redirects=True).status_code == 200
    assert client.get("/service/", follow_redirects=True).status_code == 200
    assert client.get("/marketing/").status_code == 404
    assert client.get("/loyalty/").status_code == 404
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert not any(r.startswith("/marketing") for r in rules)


def test_menu_lists_only_loaded_modules_the_user_may_open(client, make_user, login):
    make_user(email="agent@example.ir", role="agent", seats=["sales"])
    login("agent@example.ir")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/sales/"' in page
    assert 'href="/marketing/"' not in page


def test_user_without_a_seat_is_told_to_ask_the_admin(client, make_user, login):
    make_user(email="agent@example.ir", role="agent", seats=["sales"])
    login("agent@example.ir")
    response = client.get("/service/")
    assert response.status_code == 403
    assert b'data-error="no-seat"' in response.data
