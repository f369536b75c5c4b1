"""What a page reads hundreds of times is remembered for the request, and only as long as it
is right: the translation catalog per locale (force_locale switches it), Jalali dates, and the
settings every page reads (fetched with the license's, forgotten when one is saved)."""

from datetime import UTC, date, datetime

from flask import render_template_string, session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event

from core.database import get_setting, set_setting
from core.extensions import db
from core.i18n import current_locale, jdate
from core.licensing.state import forget_state, read_settings


def _statements(app):
    seen = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cu, statement, *_rest: seen.append(statement))
    return seen


def test_the_catalog_follows_force_locale_in_code_and_templates(app):
    with app.test_request_context("/"):
        session["locale"] = "fa"
        assert current_locale() == "fa"
        persian = _("Customers")
        assert persian != "Customers"
        assert render_template_string("{{ _('Customers') }}") == persian
        with force_locale("en"):
            assert current_locale() == "en"
            assert _("Customers") == "Customers"
            assert render_template_string("{{ _('Customers') }}") == "Customers"
        assert _("Customers") == persian  # back to the reader's language
        assert render_template_string("{{ _('Customers') }}") == persian


def test_jalali_dates_are_right_in_both_locales_from_the_cache(app):
    day = date(2025, 3, 21)  # 1 Farvardin 1404
    with app.test_request_context("/"):
        session["locale"] = "fa"
        for _round in range(2):  # the second answer comes from the cache
            assert jdate(day) == "۱۴۰۴/۰۱/۰۱"
            assert jdate(day, "long") == "۱ فروردین ۱۴۰۴"
            assert jdate(day, locale="en") == "1404/01/01"
        # 20:30 UTC on 20 March is already 21 March in Tehran
        assert jdate(datetime(2025, 3, 20, 20, 30, tzinfo=UTC)) == "۱۴۰۴/۰۱/۰۱"
        with force_locale("en"):
            assert jdate(day) == "1404/01/01"


def test_page_settings_come_with_the_license_query_and_a_saved_one_is_read_again(app):
    with app.app_context():
        set_setting("display.unit", "toman")
        db.session.commit()
    seen = _statements(app)
    with app.test_request_context("/"):
        forget_state()
        read_settings()  # what the license gate runs first in every request
        seen.clear()
        assert get_setting("display.unit") == "toman"
        assert get_setting("display.language", "fa") == "fa"  # not set: the default
        assert seen == []  # both answered without a query
        set_setting("display.unit", "rial")
        assert get_setting("display.unit") == "rial"  # saved in this request: read again
        db.session.rollback()
    with app.app_context():  # outside a request nothing is remembered
        assert get_setting("display.unit") == "toman"


def test_club_settings_are_read_once_per_request_and_again_after_a_save(app):
    from modules.loyalty.ledger import club_settings

    seen = _statements(app)
    with app.test_request_context("/"):
        assert club_settings().point_value == 1000  # the default
        seen.clear()
        assert club_settings().point_value == 1000
        assert seen == []  # the second time from the request's cache
        set_setting("loyalty.point_value", 250)
        assert club_settings().point_value == 250  # a save in this request: read again
        db.session.rollback()
    with app.test_request_context("/"):  # a new request reads what is stored
        assert club_settings().point_value == 1000
