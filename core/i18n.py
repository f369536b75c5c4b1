"""Persian-first i18n: locale choice, digits, Jalali dates, text normalisation, Jinja filters.

Dates are stored in UTC and shown in Jalali, Tehran time. Money formatting and amounts in
words live in ``core.money`` and ``core.words``; identifiers in ``core.validators``.
"""

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

import jdatetime
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask.globals import _cv_app, _cv_request  # contexts without a proxy (hot path)
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from core.extensions import babel

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)
RTL_LOCALES = {"fa"}
TEHRAN = ZoneInfo("Asia/Tehran")
SATURDAY = 5  # date.weekday(): Monday is 0

MONTHS = {
    "fa": ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
           "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"),
    "en": ("Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
           "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"),
}
THOUSANDS_SEP = {"fa": "٬", "en": ","}
DECIMAL_SEP = {"fa": "٫", "en": "."}


# --- locale ------------------------------------------------------------------------------

def select_locale() -> str:
    """The user's stored language, else the session's, else the deployment default (fa)."""
    languages = current_app.config["CRM_LANGUAGES"]
    if not has_request_context():
        # Commands and jobs: terminals rarely lay out right-to-left text, so the CLI speaks
        # English unless CRM_CLI_LANGUAGE says otherwise. Mail and SMS to customers choose
        # their language explicitly (force_locale), whatever this says.
        return current_app.config.get("CRM_CLI_LANGUAGE", "en")
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    chosen = session.get("locale") if request else None
    if chosen in languages:
        return chosen
    from core.database import get_setting

    default = get_setting("display.language")
    return default if default in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    """The language of the current request ("fa" outside a request)."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return "fa"
    # Flask-Babel keeps the request's locale (or the one force_locale set) on g._flask_babel;
    # read it from there first: this runs for every translated string, number and date.
    locale = getattr(getattr(ctx.g, "_flask_babel", None), "babel_locale", None) \
        or get_locale()
    return locale.language if locale else "fa"


def is_rtl() -> bool:
    return current_locale() in RTL_LOCALES


def _lang(locale: str | None) -> str:
    return "en" if (locale or current_locale()) == "en" else "fa"


# --- digits and numbers --------------------------------------------------------------------

def to_latin_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII digits."""
    return str(text).translate(_TO_LATIN)


def to_persian_digits(text) -> str:
    """ASCII digits to Persian digits."""
    return str(text).translate(_TO_PERSIAN)


def localize_digits(text, locale: str | None = None) -> str:
    """Digits in the script of ``locale`` (Persian in fa, ASCII in en)."""
    text = "" if text is None else str(text)
    return to_persian_digits(text) if _lang(locale) == "fa" else to_latin_digits(text)


def digits(value) -> str:
    """Show digits in the current locale's script (Persian digits in fa)."""
    return localize_digits(value)


# --- bidi isolation ------------------------------------------------------------------------

LRI, PDI = "\u2066", "\u2069"
_BIDI_CONTROLS = re.compile("[\u2066-\u2069\u202a-\u202e\u200e\u200f]")
# "1405-1", "۱۴۰۵-۱۲", "0912-123-4567": digits joined by hyphens. In a Persian sentence the
# bidi algorithm turns these digits into Arabic numbers, which a hyphen does not join, so
# "۱۴۰۵-۱" would show as "۱-۱۴۰۵"; a left-to-right isolate keeps it in writing order.
_DIGIT = "0-9\u06f0-\u06f9\u0660-\u0669"
# Not inside a word, a URL, a token or an address: those are not read as numbers.
_HYPHENATED_NUMBER = re.compile(
    f"(?<![\u2066\\w./:@+-])[{_DIGIT}]+(?:-[{_DIGIT}]+)+(?![\u2069\\w./:@+-])")


def isolate(text) -> str:
    """``text`` as a left-to-right isolate (LRI … PDI): a reference, code or number that
    keeps its order inside right-to-left text. Empty stays empty; idempotent."""
    text = "" if text is None else str(text)
    if not text or (text.startswith(LRI) and text.endswith(PDI)):
        return text
    return f"{LRI}{text}{PDI}"


_LETTER = re.compile(r"[^\W\d_]")
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def _after_rtl(text: str, start: int) -> bool:
    """Whether the last letter before ``start`` is Hebrew or Arabic-script (Persian)."""
    letters = _LETTER.findall(text[:start])
    return bool(letters) and bool(_RTL_LETTER.match(letters[-1]))


def isolate_numbers(text, after_rtl_only: bool = False) -> str:
    """Every hyphenated number in ``text`` ("۱۴۰۵-۱") isolated, the rest untouched (safe
    markup stays safe: only invisible marks are added). ``after_rtl_only``: only the numbers
    that follow a Persian word, the ones that would show reversed ("Invoice 1405-1" stays)."""
    if text is None:
        return ""
    source = str(text)
    if "-" not in source:  # nothing to isolate (most values): skip the regular expression
        return text if isinstance(text, str) else source

    def wrap(match):
        if after_rtl_only and not _after_rtl(source, match.start()):
            return match.group(0)
        return isolate(match.group(0))

    isolated = _HYPHENATED_NUMBER.sub(wrap, source)
    return Markup(isolated) if isinstance(text, Markup) else isolated


def isolate_stored(text) -> str:
    """The ``bidi`` filter, for stored text (descriptions, notes, reasons): hyphenated numbers
    that follow a Persian word isolated, in any page language."""
    return isolate_numbers(text, after_rtl_only=True)


def strip_bidi(text) -> str:
    """``text`` without bidi control marks (for files read by other programs)."""
    return _BIDI_CONTROLS.sub("", "" if text is None else str(text))


def reference(value) -> str:
    """A document reference for people: the reader's digits, isolated (LRI ۱۴۰۵-۱ PDI)."""
    return isolate(digits(value))


def display_digits(value) -> str:
    """The ``digits`` filter: the reader's digits, with hyphenated numbers isolated in fa."""
    text = digits(value)
    return isolate_numbers(text) if _lang(None) == "fa" else text


def format_number(value, locale: str | None = None, grouping: bool = True,
                  places: int | None = None) -> str:
    """A number with thousands separators and locale digits ("۱٬۲۰۰" in fa); ``places``
    rounds to that many decimals (floats are fine here; money never goes through floats)."""
    if value is None or value == "":
        return ""
    lang = _lang(locale)
    number = value if isinstance(value, int) and places is None else Decimal(str(value))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    text = f"{abs(number):f}" if isinstance(number, Decimal) else str(abs(number))
    whole, _dot, fraction = text.partition(".")
    if grouping:
        whole = f"{int(whole):,}".replace(",", THOUSANDS_SEP[lang])
    text = whole + (DECIMAL_SEP[lang] + fraction if fraction else "")
    return localize_digits(sign + text, lang)


_NUMBER_JUNK = re.compile(r"[\s\u066c\u060c,'_\u2009\u202f\u00a0\u200c\u200e\u200f]")


def parse_number(text, *, allow_decimal: bool = False) -> int | Decimal:
    """Read a number typed with any digits and separators: "۱٬۲۰۰٬۰۰۰", "1,200,000", "-۵"."""
    raw = to_latin_digits(str(text)).strip()
    cleaned = _NUMBER_JUNK.sub("", raw).replace("\u066b", ".").replace("\u2212", "-")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", cleaned):
        raise ValueError(_("%(value)s is not a number", value=text))
    if "." in cleaned:
        if not allow_decimal:
            raise ValueError(_("%(value)s must be a whole number", value=text))
        try:
            return Decimal(cleaned)
        except InvalidOperation as exc:  # pragma: no cover - the regex already checked
            raise ValueError(_("%(value)s is not a number", value=text)) from exc
    return int(cleaned)


# --- text normalisation for search keys ----------------------------------------------------

_CHAR_MAP = str.maketrans({
    "ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "ه", "ة": "ه", "ہ": "ه",
    "أ": "ا", "إ": "ا", "ٱ": "ا",
    "\u200c": "", "\u200d": "", "\u200e": "", "\u200f": "", "\ufeff": "", "\u0640": "",
    **{chr(c): "" for c in range(0x064B, 0x0660)}, "\u0670": "",
})
# Separable verb prefixes and plural/comparative suffixes, written with ZWNJ, a space or
# nothing: «می‌روم», «می روم», «میروم» all become «میروم».
_PREFIX_GAP = re.compile(r"(?<!\S)(ن?می) (?=\S)")
_SUFFIX_GAP = re.compile(r"(?<=\S) (ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشان|تر|ترین)(?!\S)")


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = to_latin_digits(text.translate(_CHAR_MAP))
    text = " ".join(text.split())
    text = _PREFIX_GAP.sub(r"\1", text)
    return _SUFFIX_GAP.sub(r"\1", text)


def normalize(text) -> str:
    """A search key: one spelling of Persian letters, no diacritics, tatweel or ZWNJ,
    Latin digits, casefolded Latin, single spaces. Apply it to stored keys and queries alike.

    ZWNJ is removed, and the separable affixes «می»/«نمی» and «ها»/«تر»/«ترین»... are joined
    to their word, so «می‌روم», «میروم» and «می روم» share one key. Idempotent.
    """
    if text is None:
        return ""
    current = str(text)
    for _round in range(5):
        following = _normalize_once(current)
        if following == current:
            break
        current = following
    return current


# --- Jalali dates, Tehran time -------------------------------------------------------------

def to_tehran(value: datetime) -> datetime:
    """A stored datetime (aware, or naive meaning UTC) in Tehran time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TEHRAN)


def local_date(value) -> date:
    """The calendar date in Tehran of a datetime; a date stays as it is."""
    if isinstance(value, datetime):
        return to_tehran(value).date()
    if isinstance(value, jdatetime.date):
        return value.togregorian()
    return value


def to_jalali(value) -> jdatetime.date:
    """A date or datetime (UTC) as a Jalali date in Tehran."""
    return jdatetime.date.fromgregorian(date=local_date(value))


def jdate(value, fmt: str = "short", locale: str | None = None) -> str:
    """Jalali date: "۱۴۰۳/۰۷/۱۵" in fa, "1403/07/15" in en; ``fmt="long"``: "۱۵ مهر ۱۴۰۳"."""
    if value is None or value == "":
        return ""
    return _jdate_text(local_date(value), fmt, _lang(locale))


@lru_cache(maxsize=8192)
def _jdate_text(day: date, fmt: str, lang: str) -> str:
    """A calendar day's Jalali text (lists show the same few days on every row and page)."""
    j = jdatetime.date.fromgregorian(date=day)
    if fmt == "long":
        text = f"{j.day} {MONTHS[lang][j.month - 1]} {j.year}"
    else:
        text = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    return localize_digits(text, lang)


def jdatetime_filter(value, fmt: str = "short", locale: str | None = None) -> str:
    """Jalali date and Tehran time: "۱۴۰۳/۰۷/۱۵ ۱۴:۳۰"."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return jdate(value, fmt, locale)
    local = to_tehran(value)
    return f"{jdate(local.date(), fmt, locale)} {localize_digits(local.strftime('%H:%M'), locale)}"


def jmonth(value, locale: str | None = None) -> str:
    """A Jalali month name (from 1–12), or "مهر ۱۴۰۳" from a date or a (year, month) pair."""
    lang = _lang(locale)
    if isinstance(value, int):
        return MONTHS[lang][value - 1]
    if isinstance(value, tuple):
        year, month = value
    else:
        j = to_jalali(value)
        year, month = j.year, j.month
    return f"{MONTHS[lang][month - 1]} {localize_digits(year, lang)}"


_DATE_INPUT = re.compile(r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})")


def date_hint(which: str = "today", with_time: bool = False, locale: str | None = None) -> str:
    """An example date for a placeholder, in this Jalali year and the reader's digits:
    ``today`` ("۱۴۰۵/۰۳/۱۸"), ``year_start`` ("۱۴۰۵/۰۱/۰۱") or ``year_end`` ("۱۴۰۵/۱۲/۲۹");
    ``with_time`` adds "۱۴:۳۰"."""
    today = to_jalali(datetime.now(UTC))
    if which == "year_start":
        day = jdatetime.date(today.year, 1, 1)
    elif which == "year_end":
        day = jdatetime.date(today.year, 12, 30 if jdatetime.date(today.year, 1, 1).isleap()
                             else 29)
    else:
        day = today
    text = f"{day.year:04d}/{day.month:02d}/{day.day:02d}" + (" 14:30" if with_time else "")
    return localize_digits(text, locale)


def lazy_date_hint(which: str = "today", with_time: bool = False):
    """``date_hint`` worked out when shown (form classes are built once, readers differ)."""
    return LazyString(date_hint, which, with_time)


def lazy_digits(text: str):
    """``text`` (a placeholder such as "08:00") in the digits of whoever reads it."""
    return LazyString(localize_digits, text)


def parse_jalali_date(text) -> date:
    """Read "۱۴۰۳/۰۱/۱۵" (Persian, Arabic-Indic or Latin digits; / - or .) as a Gregorian date."""
    raw = to_latin_digits(str(text or "")).strip()
    match = _DATE_INPUT.fullmatch(raw)
    if match is None:
        raise ValueError(_("%(value)s is not a date; write it as year/month/day, "
                           "e.g. 1403/01/15", value=text))
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(_("%(value)s has no month %(month)d; months run from 1 to 12",
                           value=text, month=month))
    length = jdatetime.j_days_in_month[month - 1]
    if month == 12 and jdatetime.date(year, 1, 1).isleap():
        length = 30
    if not 1 <= day <= length:
        raise ValueError(_("%(value)s: this month has %(days)d days", value=text, days=length))
    return jdatetime.date(year, month, day).togregorian()


def parse_jalali_datetime(text) -> datetime:
    """Read "۱۴۰۳/۰۱/۱۵ ۱۴:۳۰" as Tehran time; returns an aware UTC datetime."""
    raw = to_latin_digits(str(text or "")).strip()
    date_part, _sep, time_part = raw.partition(" ")
    day = parse_jalali_date(date_part)
    clock = time(0, 0)
    if time_part.strip():
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", time_part.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(_("%(value)s is not a time; write it as hours:minutes, e.g. 14:30",
                               value=time_part.strip()))
        clock = time(int(match[1]), int(match[2]), int(match[3] or 0))
    return datetime.combine(day, clock, tzinfo=TEHRAN).astimezone(UTC)


def week_start(value) -> date:
    """The Saturday that starts the (Iranian) week containing ``value``."""
    day = local_date(value)
    return day - timedelta(days=(day.weekday() - SATURDAY) % 7)


def jalali_month_of(value) -> tuple[int, int]:
    """(Jalali year, month) of a date or UTC datetime, for grouping reports."""
    j = to_jalali(value)
    return j.year, j.month


def jalali_month_range(year: int, month: int) -> tuple[date, date]:
    """First day of the Jalali month and first day of the next one (Gregorian dates)."""
    start = jdatetime.date(year, month, 1).togregorian()
    following = jdatetime.date(year + month // 12, month % 12 + 1, 1).togregorian()
    return start, following


def utc_range(start: date, end: date) -> tuple[datetime, datetime]:
    """Tehran midnights of two dates as UTC datetimes: ``start <= ts < end`` in queries."""
    def midnight(day):
        return datetime.combine(day, time(0, 0), tzinfo=TEHRAN).astimezone(UTC)

    return midnight(start), midnight(end)


def jalali_month_utc_range(year: int, month: int) -> tuple[datetime, datetime]:
    """The UTC instants that bound a Jalali month in Tehran."""
    return utc_range(*jalali_month_range(year, month))


def fiscal_start_month() -> int:
    """The Jalali month the fiscal year starts in (setting fiscal.year_start_month, 1)."""
    if not has_app_context():
        return 1
    from core.database import get_setting

    return int(get_setting("fiscal.year_start_month", 1) or 1)


def fiscal_year_of(value, start_month: int | None = None) -> int:
    """The fiscal year (named by the Jalali year it starts in) of a date or UTC datetime."""
    start_month = start_month or fiscal_start_month()
    year, month = jalali_month_of(value)
    return year if month >= start_month else year - 1


def fiscal_year_range(fiscal_year: int, start_month: int | None = None) -> tuple[date, date]:
    """First day of the fiscal year and first day of the next one (Gregorian dates)."""
    start_month = start_month or fiscal_start_month()
    return (jdatetime.date(fiscal_year, start_month, 1).togregorian(),
            jdatetime.date(fiscal_year + 1, start_month, 1).togregorian())


# --- wiring --------------------------------------------------------------------------------

def request_cached(key: str, compute):
    """A value computed once per request (settings read by filters on every row)."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return compute()
    # On the request context, not g: a test's app context outlives many requests.
    cache = ctx.__dict__.setdefault("crm_request_cache", {})
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = compute()
        return value


def init_app(app: Flask) -> None:
    from core import money, tax, words  # noqa: F401 - tax registers its table
    from core.translation import LocalDigitsDomain

    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = domain = LocalDigitsDomain(domain="messages")  # locale digits
    # Templates translate through the domain directly (Flask-Babel's callables look the
    # domain up again for every string).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n))
    app.jinja_env.globals.update(crm_locale=current_locale, crm_rtl=is_rtl,
                                 crm_date_hint=date_hint, crm_money_unit=money.unit_word)
    app.jinja_env.filters.update(
        digits=display_digits,
        ref=reference,
        bidi=isolate_stored,
        number=format_number,
        jdate=jdate,
        jdatetime=jdatetime_filter,
        jmonth=jmonth,
        money=money.format_money,
        money_words=words.amount_in_words,
    )
