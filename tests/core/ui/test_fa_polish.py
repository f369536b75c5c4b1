"""Right-to-left polish: references isolated inside Persian text, placeholders in this Jalali
year and the reader's digits."""

import re
from datetime import UTC, datetime

import jdatetime
from flask import render_template_string
from flask_babel import force_locale
from flask_babel import gettext as _

from core.i18n import (
    LRI,
    PDI,
    date_hint,
    isolate,
    isolate_numbers,
    isolate_stored,
    strip_bidi,
    to_persian_digits,
)


def test_isolate_and_hyphenated_numbers():
    assert isolate("1405-1") == f"{LRI}1405-1{PDI}"
    assert isolate(isolate("1405-1")) == f"{LRI}1405-1{PDI}"
    assert isolate("") == "" and isolate(None) == ""
    text = "پیش‌فاکتور ۱۴۰۵-۱ ذخیره شد"
    assert isolate_numbers(text) == f"پیش‌فاکتور {LRI}۱۴۰۵-۱{PDI} ذخیره شد"
    assert isolate_numbers(isolate_numbers(text)) == isolate_numbers(text)
    # dates with slashes, signs, URLs, tokens and words are left alone
    for plain in ("۱۴۰۵/۰۱/۳۱", "-5", "https://x.ir/a/12-34", "abc.12-34", "T-000123",
                  "user-12@x.ir"):
        assert isolate_numbers(plain) == plain
    assert strip_bidi(isolate_numbers(text)) == text
    # stored text (the bidi filter): only numbers after a Persian word need the isolate
    assert isolate_stored("Invoice 1405-1 to آلفا") == "Invoice 1405-1 to آلفا"
    assert isolate_stored("فاکتور ۱۴۰۵-۱ به آلفا") == f"فاکتور {LRI}۱۴۰۵-۱{PDI} به آلفا"


def test_messages_isolate_references_in_persian_only(app):
    with app.test_request_context():
        with force_locale("fa"):
            assert f"{LRI}۱۴۰۵-۱{PDI}" in _("Quote %(ref)s saved.", ref="۱۴۰۵-۱")
            assert _("%(url)s", url="https://x.ir/1-2") == "https://x.ir/1-2"
        with force_locale("en"):
            assert _("Quote %(ref)s saved.", ref="1405-1") == "Quote 1405-1 saved."


def test_digits_and_ref_filters(app):
    with app.test_request_context():
        with force_locale("fa"):
            shown = render_template_string("{{ '1405-1'|digits }}|{{ 12|digits }}|"
                                           "{{ '1405-1'|ref }}")
            assert shown == f"{LRI}۱۴۰۵-۱{PDI}|۱۲|{LRI}۱۴۰۵-۱{PDI}"
        with force_locale("en"):
            assert render_template_string("{{ '1405-1'|digits }}") == "1405-1"


def test_date_hints_are_this_jalali_year_in_the_readers_digits(app):
    year = jdatetime.date.fromgregorian(date=datetime.now(UTC).date()).year
    with app.test_request_context():
        assert date_hint("year_start", locale="en") == f"{year}/01/01"
        assert date_hint("year_start", locale="fa") == to_persian_digits(f"{year}/01/01")
        assert date_hint("year_end", locale="en") in (f"{year}/12/29", f"{year}/12/30")
        assert re.fullmatch(rf"{year}/\d\d/\d\d 14:30", date_hint(with_time=True, locale="en"))
        with force_locale("fa"):
            assert render_template_string("{{ crm_date_hint('year_end') }}").startswith(
                to_persian_digits(str(year)))


def test_date_and_mobile_fields_show_placeholders_in_the_readers_digits(app):
    from flask_wtf import FlaskForm

    from core.fields import JalaliDateField, JalaliDateTimeField, MobileField

    class Form(FlaskForm):
        class Meta:
            csrf = False

        day = JalaliDateField("Day")
        at = JalaliDateTimeField("At")
        mobile = MobileField("Mobile")

    year = str(jdatetime.date.fromgregorian(date=datetime.now(UTC).date()).year)
    with app.test_request_context():
        with force_locale("fa"):
            form = Form()
            html = f"{form.day()} {form.at()} {form.mobile()}"
            placeholders = re.findall(r'placeholder="([^"]*)"', html)
            assert len(placeholders) == 3
            assert not any(re.search(r"[0-9]", p) for p in placeholders), placeholders
            assert placeholders[0].startswith(to_persian_digits(year)) and "۱۴۰۳" not in html
        with force_locale("en"):
            assert f'placeholder="{year}/' in str(Form().day())


def test_customer_task_form_and_journal_filters_in_persian(app, client, make_user, login):
    from core.customers.services import create_customer
    from core.extensions import db

    make_user(seats=["accounting_link"], locale="fa")
    login()
    with app.test_request_context():
        customer = create_customer(kind="person", last_name="رضایی", by=None)
        db.session.commit()
        customer_id = customer.id
    for path in (f"/customers/{customer_id}", "/accounting/journal"):
        html = client.get(path).get_data(as_text=True)
        placeholders = re.findall(r'placeholder="([^"]*)"', html)
        latin = [p for p in placeholders if re.search(r"[0-9]", p)]
        assert placeholders and latin == [], (path, latin)
        assert "۱۴۰۳" not in html, path
