"""Core journeys in real Chromium: sign-in in both languages, live license upload, read-only."""

from datetime import date, timedelta

import pytest

from tests.browser import assert_clean, shot, sign_in
from tests.core.licensing.helpers import BASE, license_text

pytestmark = pytest.mark.e2e


def _install(app, text):
    from core.licensing.services import install

    with app.app_context():
        install(text, installed_by="test")


def _deployment(app):
    from core.bootstrap import deployment_id

    with app.app_context():
        return deployment_id()


def test_sign_in_in_persian_then_switch_to_english(browser_page, live_server, make_user):
    make_user(email="admin@example.ir", name="مریم احمدی")
    page = browser_page
    page.goto(live_server("/auth/login"))
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    assert "ورود" in page.inner_text("main")
    sign_in(page, live_server, "admin@example.ir")
    assert "داشبورد" in page.inner_text("h1")
    shot(page, "journey-dashboard-fa")

    page.click("[data-language=en]")
    page.wait_for_function("() => document.documentElement.dir === 'ltr'")
    assert page.get_attribute("html", "lang") == "en"
    assert "Dashboard" in page.inner_text("h1")
    shot(page, "journey-dashboard-en")

    # the choice is stored on the user: a new browser session opens in English
    page.context.clear_cookies()
    sign_in(page, live_server, "admin@example.ir")
    assert page.get_attribute("html", "dir") == "ltr"
    assert_clean(page)


def test_sign_in_in_english_from_the_login_page(browser_page, live_server, make_user):
    make_user(email="agent@example.ir", role="agent")
    page = browser_page
    page.goto(live_server("/auth/login"))
    page.click("[data-language=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Sign in" in page.inner_text("main")
    page.fill("input[name=email]", "agent@example.ir")
    page.fill("input[name=password]", "wrong password")
    page.click("form button[type=submit]")
    assert "Email or password is wrong" in page.inner_text("main")
    page.crm_problems.clear()  # the 401 of the refused sign-in is expected
    sign_in(page, live_server, "agent@example.ir")
    assert page.get_attribute("html", "dir") == "ltr"


def test_uploading_a_license_activates_a_module_at_once(
        app, browser_page, live_server, make_user, clock, tmp_path):
    deployment = _deployment(app)
    _install(app, license_text(deployment, modules={"sales": 3}))
    make_user(email="admin@example.ir", seats=["sales"])
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/marketing/"))
    assert page.locator("[data-error=not-licensed]").count() == 1
    page.crm_problems.clear()  # the 403 of the refused page is expected

    page.goto(live_server("/admin/modules"))
    assert page.locator("[data-module=marketing][data-active=no]").count() == 1

    new_license = tmp_path / "new.license"
    new_license.write_text(license_text(deployment, modules={"sales": 3, "marketing": 2}))
    page.goto(live_server("/admin/license"))
    page.set_input_files("input[type=file]", str(new_license))
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-module=marketing][data-active=yes]").count() == 1
    shot(page, "journey-license-installed")

    # no restart: the menu has the module now and a seat opens it
    from sqlalchemy import select

    from core.admin.services import assign_seat
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        assign_seat(db.session.execute(select(User)).scalar_one(), "marketing")
    page.goto(live_server("/"))
    assert page.locator("a[href='/marketing/']").count() >= 1
    page.goto(live_server("/marketing/"))
    assert page.locator("[data-error]").count() == 0
    assert_clean(page)


def test_expired_license_turns_the_deployment_read_only(
        app, browser_page, live_server, make_user, clock):
    deployment = _deployment(app)
    expires = date(2026, 2, 1)
    _install(app, license_text(deployment, modules={"sales": 3}, expires=expires, grace_days=7))
    make_user(email="admin@example.ir", seats=["sales"])
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")

    clock.now = BASE + timedelta(days=10)  # twelve days before expiry: a warning
    page.goto(live_server("/"))
    assert page.locator("[data-banner=license-warning]").count() == 1
    clock.now = BASE + timedelta(days=25)  # expired, inside the grace days: still writable
    page.goto(live_server("/"))
    assert page.locator("[data-banner=license-grace]").count() == 1

    clock.now = BASE + timedelta(days=60)  # past expiry and grace
    page.goto(live_server("/admin/settings"))
    assert page.locator("[data-banner=license-read-only]").count() == 1
    page.crm_problems.clear()
    page.click("main form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-error=read-only]").count() == 1
    assert "ریال" not in page.inner_text("main")  # the page explains, it does not echo the form
    # reads still work
    page.goto(live_server("/admin/audit"))
    assert page.locator("[data-error]").count() == 0
    shot(page, "journey-read-only")
