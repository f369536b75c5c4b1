"""Jalali dates in Tehran time: display, input, weeks, months and fiscal years."""

from datetime import UTC, date, datetime, timedelta

import jdatetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import (
    fiscal_year_of,
    fiscal_year_range,
    jalali_month_of,
    jalali_month_range,
    jalali_month_utc_range,
    jdate,
    jdatetime_filter,
    jmonth,
    parse_jalali_date,
    parse_jalali_datetime,
    to_tehran,
    week_start,
)

SCRIPTS = [str.maketrans("", ""), str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
           str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")]
FIRST = jdatetime.date(1300, 1, 1).togregorian()
LAST = jdatetime.date(1500, 12, 29).togregorian()
gregorian_dates = st.dates(min_value=FIRST, max_value=LAST)


@st.composite
def jalali_days(draw):
    year = draw(st.integers(1300, 1500))
    month = draw(st.integers(1, 12))
    length = 31 if month <= 6 else 30 if month < 12 else (
        30 if jdatetime.date(year, 1, 1).isleap() else 29)
    return year, month, draw(st.integers(1, length))


def test_known_dates():
    assert parse_jalali_date("۱۴۰۳/۰۱/۱۵") == date(2024, 4, 3)
    assert parse_jalali_date("1402/01/01") == date(2023, 3, 21)
    assert parse_jalali_date("١٤٠٣-١-١") == date(2024, 3, 20)
    assert parse_jalali_date(" 1403.12.30 ") == date(2025, 3, 20)  # 1403 is a leap year
    assert jdate(date(2024, 10, 6), locale="fa") == "۱۴۰۳/۰۷/۱۵"
    assert jdate(date(2024, 10, 6), locale="en") == "1403/07/15"
    assert jdate(date(2024, 10, 6), "long", locale="fa") == "۱۵ مهر ۱۴۰۳"
    assert jdate(date(2024, 10, 6), "long", locale="en") == "15 Mehr 1403"
    assert jdate(None) == ""


def test_datetimes_are_shown_in_tehran_time():
    late_utc = datetime(2024, 10, 6, 21, 0, tzinfo=UTC)  # 00:30 next day in Tehran
    assert jdate(late_utc, locale="en") == "1403/07/16"
    assert jdatetime_filter(late_utc, locale="en") == "1403/07/16 00:30"
    assert jdatetime_filter(late_utc, locale="fa") == "۱۴۰۳/۰۷/۱۶ ۰۰:۳۰"
    naive_utc = datetime(2024, 10, 6, 21, 0)
    assert jdatetime_filter(naive_utc, locale="en") == "1403/07/16 00:30"
    assert to_tehran(naive_utc).utcoffset() == timedelta(hours=3, minutes=30)


@pytest.mark.parametrize("text, reason", [
    ("1403/13/01", "no month 13"), ("1402/12/30", "has 29 days"), ("1403/07/31", "has 30 days"),
    ("hello", "not a date"), ("", "not a date"), ("03/07/15", "not a date"),
])
def test_bad_dates_are_refused_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_jalali_date(text)


def test_parse_datetime_is_tehran_time():
    assert parse_jalali_datetime("۱۴۰۳/۰۷/۱۶ ۰۰:۳۰") == datetime(2024, 10, 6, 21, 0, tzinfo=UTC)
    assert parse_jalali_datetime("1403/07/16") == datetime(2024, 10, 6, 20, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_jalali_datetime("1403/07/16 25:00")


@given(jalali_days(), st.sampled_from(SCRIPTS), st.sampled_from("/-."), st.booleans())
def test_jalali_text_round_trip(day, digits, sep, padded):
    year, month, d = day
    text = (f"{year}{sep}{month:02d}{sep}{d:02d}" if padded
            else f"{year}{sep}{month}{sep}{d}").translate(digits)
    parsed = parse_jalali_date(text)
    assert jdate(parsed, locale="en") == f"{year:04d}/{month:02d}/{d:02d}"
    assert jdatetime.date.fromgregorian(date=parsed) == jdatetime.date(year, month, d)


@given(gregorian_dates, st.sampled_from(["fa", "en"]))
def test_date_to_jalali_text_and_back(day, locale):
    assert parse_jalali_date(jdate(day, locale=locale)) == day


@given(st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2090, 1, 1)))
def test_datetime_to_jalali_text_and_back_to_the_minute(moment):
    """Since 2022 Tehran keeps no daylight saving, so every local minute is unambiguous."""
    moment = moment.replace(second=0, microsecond=0, tzinfo=UTC)
    assert parse_jalali_datetime(jdatetime_filter(moment, locale="fa")) == moment


@given(gregorian_dates)
def test_week_starts_on_saturday(day):
    start = week_start(day)
    assert start.weekday() == 5  # Saturday
    assert 0 <= (day - start).days < 7


def test_month_names_and_ranges():
    assert jmonth(1, locale="fa") == "فروردین"
    assert jmonth(12, locale="en") == "Esfand"
    assert jmonth(date(2024, 10, 6), locale="fa") == "مهر ۱۴۰۳"
    assert jmonth((1403, 7), locale="en") == "Mehr 1403"
    assert jalali_month_range(1403, 12) == (date(2025, 2, 19), date(2025, 3, 21))
    start, end = jalali_month_utc_range(1403, 7)
    assert start == datetime(2024, 9, 21, 20, 30, tzinfo=UTC)
    assert end == datetime(2024, 10, 21, 20, 30, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2090, 1, 1)))
def test_utc_month_range_contains_its_instants(moment):
    moment = moment.replace(tzinfo=UTC)
    start, end = jalali_month_utc_range(*jalali_month_of(moment))
    assert start <= moment < end


@given(gregorian_dates.filter(lambda d: d < LAST - timedelta(days=400)),
       st.integers(1, 12))
def test_fiscal_year_contains_the_date(day, start_month):
    year = fiscal_year_of(day, start_month)
    first, following = fiscal_year_range(year, start_month)
    assert first <= day < following
    assert jdatetime.date.fromgregorian(date=first).month == start_month


def test_fiscal_year_examples():
    assert fiscal_year_of(date(2024, 3, 19), 1) == 1402  # 1402/12/29
    assert fiscal_year_of(date(2024, 3, 20), 1) == 1403
    assert fiscal_year_of(date(2024, 5, 1), 4) == 1402  # 1403/02/12, year starts in Tir
    assert fiscal_year_of(date(2024, 7, 1), 4) == 1403  # 1403/04/11
