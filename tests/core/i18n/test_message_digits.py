"""Numbers inside translated messages follow the reader's digits."""

from flask_babel import force_locale, gettext, ngettext


def test_numbers_in_messages_use_persian_digits_in_fa(app):
    with app.test_request_context("/"):
        with force_locale("fa"):
            text = gettext("This month has %(days)d days.", days=29)
            assert "۲۹" in text and "29" not in text
            assert "۱۲" in ngettext("%(num)d item", "%(num)d items", 12)
            # non-numeric variables are left alone, even when they hold digits
            assert "a1@x.ir" in gettext("%(email)s can sign in again.", email="a1@x.ir")
        with force_locale("en"):
            assert gettext("This month has %(days)d days.", days=29) == "This month has 29 days."
