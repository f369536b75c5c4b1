"""Message formatting that shows numbers in the reader's digits.

``_("%(count)d seats", count=3)`` would put a Latin "3" into a Persian sentence. This domain
formats numeric variables with the current locale's digits (۳ in fa), so call sites and
catalogs keep the ordinary gettext conventions. In fa it also isolates hyphenated numbers in
text variables (references such as "۱۴۰۵-۱"), which would otherwise show reversed.
"""

import re

from flask_babel import Domain

_NUMERIC = re.compile(r"%\((\w+)\)d")


def _isolated(value, isolate_numbers):
    if not isinstance(value, str) or "://" in value:
        return value  # links keep every character
    return value.__class__(isolate_numbers(value))  # Markup stays Markup


def _localise(message: str, variables: dict) -> str:
    if not variables:
        return message
    from core.i18n import current_locale, isolate_numbers, to_persian_digits

    if current_locale() == "fa":
        variables = {k: _isolated(v, isolate_numbers) for k, v in variables.items()}
        numeric = {k for k, v in variables.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        if numeric:
            message = _NUMERIC.sub(
                lambda m: f"%({m.group(1)})s" if m.group(1) in numeric else m.group(0), message)
            variables = {k: to_persian_digits(v) if k in numeric else v
                         for k, v in variables.items()}
    return message % variables


class LocalDigitsDomain(Domain):
    """The "messages" domain, with numbers in the locale's digits."""

    def get_translations(self):
        """Flask-Babel's lookup, remembered on the request's babel context for its locale: a
        page translates hundreds of strings, and the full lookup goes through the context,
        the locale and a cache key each time. A forced locale (mail in the customer's
        language) is a different Locale object, so it gets its own catalog."""
        from flask.globals import _cv_app

        app_ctx = _cv_app.get(None)
        ctx = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
        locale = getattr(ctx, "babel_locale", None)
        if locale is not None:
            cached = getattr(ctx, "crm_translations", None)
            if cached is not None and cached[0] is locale:
                return cached[1]
        translations = super().get_translations()
        ctx = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
        locale = getattr(ctx, "babel_locale", None)
        if locale is not None:
            ctx.crm_translations = (locale, translations)
        return translations

    def gettext(self, string, **variables):
        return _localise(self.get_translations().ugettext(string), variables)

    def ngettext(self, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return _localise(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context, string, **variables):
        return _localise(self.get_translations().upgettext(context, string), variables)
