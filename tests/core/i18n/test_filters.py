"""Jinja filters in a real request: locale digits, Jalali dates and the deployment's unit."""

from datetime import UTC, date, datetime

import pytest
from flask import render_template_string, session

from core.database import set_setting
from core.extensions import db

TEMPLATE = (
    "{{ n|digits }}|{{ n|number }}|{{ amount|money }}|{{ day|jdate }}|{{ moment|jdatetime }}|"
    "{{ day|jmonth }}|{{ amount|money_words }}"
)
VALUES = {"n": 1234, "amount": 1_200_000, "day": date(2024, 10, 6),
          "moment": datetime(2024, 10, 6, 21, 0, tzinfo=UTC)}


def render(app, locale=None, template=TEMPLATE, **values):
    with app.test_request_context("/"):
        if locale:
            session["locale"] = locale
        return render_template_string(template, **{**VALUES, **values})


def test_persian_is_the_default(app):
    assert render(app).split("|") == [
        "۱۲۳۴", "۱٬۲۳۴", "۱٬۲۰۰٬۰۰۰ ریال", "۱۴۰۳/۰۷/۱۵", "۱۴۰۳/۰۷/۱۶ ۰۰:۳۰", "مهر ۱۴۰۳",
        "یک میلیون و دویست هزار ریال",
    ]


def test_english_shows_jalali_with_latin_digits(app):
    assert render(app, "en").split("|") == [
        "1234", "1,234", "1,200,000 Rial", "1403/07/15", "1403/07/16 00:30", "Mehr 1403",
        "one million two hundred thousand rials",
    ]


@pytest.mark.parametrize("locale, expected", [
    ("fa", "۱۲۰٬۰۰۰ تومان|یکصد و بیست هزار تومان"),
    ("en", "120,000 Toman|one hundred twenty thousand tomans"),
])
def test_toman_deployments_show_tomans(app, locale, expected):
    with app.app_context():
        set_setting("display.unit", "toman")
        db.session.commit()
    assert render(app, locale, "{{ amount|money }}|{{ amount|money_words }}") == expected


def test_empty_values_render_empty(app):
    template = "{{ none|jdate }}{{ none|jdatetime }}{{ none|money }}{{ none|number }}"
    assert render(app, None, template, none=None) == ""


def test_jdate_long_format_in_templates(app):
    assert render(app, "fa", "{{ day|jdate('long') }}") == "۱۵ مهر ۱۴۰۳"
