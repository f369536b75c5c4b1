"""Persian-first i18n: locale choice, digits, Jalali dates, text normalisation, money.

(Skeleton: the i18n work fills in Jalali filters, validators, money and amount in words.)
"""

from flask import Flask, current_app, request, session
from flask_login import current_user

from core.extensions import babel

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)
RTL_LOCALES = {"fa"}


def select_locale() -> str:
    """The user's stored language, else the session's, else the deployment default (fa)."""
    languages = current_app.config["CRM_LANGUAGES"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    chosen = session.get("locale") if request else None
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def to_latin_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII digits."""
    return text.translate(_TO_LATIN)


def to_persian_digits(text) -> str:
    """ASCII digits to Persian digits."""
    return str(text).translate(_TO_PERSIAN)


def current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "fa"


def is_rtl() -> bool:
    return current_locale() in RTL_LOCALES


def digits(value) -> str:
    """Show digits in the current locale's script (Persian digits in fa)."""
    text = "" if value is None else str(value)
    return to_persian_digits(text) if current_locale() == "fa" else text


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(crm_locale=current_locale, crm_rtl=is_rtl)
    app.jinja_env.filters["digits"] = digits
