"""WTForms fields: Jalali dates, numbers, money and mobiles typed in any digits."""

from datetime import UTC, date, datetime

from flask import session
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Optional

from core.database import set_setting
from core.extensions import db
from core.fields import (
    DigitsIntegerField,
    JalaliDateField,
    JalaliDateTimeField,
    MobileField,
    MoneyField,
)
from core.validators import NationalCode, Sheba


class SampleForm(FlaskForm):
    class Meta:
        csrf = False

    due = JalaliDateField("Due", validators=[DataRequired()])
    at = JalaliDateTimeField("At", validators=[Optional()])
    count = DigitsIntegerField("Count", validators=[Optional()])
    price = MoneyField("Price", validators=[Optional()])
    mobile = MobileField("Mobile", validators=[Optional()])
    national_code = StringField("National code", validators=[NationalCode()])
    sheba = StringField("Sheba", validators=[Sheba()])


def submit(app, data, locale=None):
    with app.test_request_context("/", method="POST", data=data):
        if locale:
            session["locale"] = locale
        form = SampleForm()
        valid = form.validate()
        return valid, form, {name: str(form[name]) for name in form.data}


def test_any_digits_are_read(app):
    valid, form, _html = submit(app, {
        "due": "۱۴۰۳/۰۱/۱۵", "at": "١٤٠٣/٠٧/١٦ ٠٠:٣٠", "count": "۱٬۲۰۰", "price": "۱٬۲۰۰٬۰۰۰",
        "mobile": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "national_code": "۰۴۹۹۳۷۰۸۹۹",
        "sheba": "IR06 2960 0000 0010 0324 2000 01",
    })
    assert valid, form.errors
    assert form.due.data == date(2024, 4, 3)
    assert form.at.data == datetime(2024, 10, 6, 21, 0, tzinfo=UTC)
    assert form.count.data == 1200
    assert form.price.data == 1_200_000
    assert form.mobile.data == "+989123456789"
    assert form.national_code.data == "0499370899"
    assert form.sheba.data == "IR062960000000100324200001"


def test_errors_name_the_reason(app):
    valid, form, _html = submit(app, {
        "due": "1402/12/30", "count": "12x", "mobile": "0212345678", "national_code": "1234567890",
        "sheba": "IR062960000000100324200002",
    }, locale="en")
    assert not valid
    assert "29 days" in form.due.errors[0]
    assert "not a number" in form.count.errors[0]
    assert "mobile" in form.mobile.errors[0]
    assert "check digit" in form.national_code.errors[0]
    assert "check digits" in form.sheba.errors[0]
    assert form.due.data is None
    # the default language, Persian, names the reason too
    _valid, persian, _html = submit(app, {"due": "1403/01/15", "national_code": "1234567890"})
    assert "رقم کنترل آن نادرست است" in persian.national_code.errors[0]


def test_missing_required_date_is_refused(app):
    valid, form, _html = submit(app, {"due": "  "})
    assert not valid and form.due.errors


def test_date_input_renders_for_the_date_picker(app):
    with app.test_request_context("/"):
        form = SampleForm(data={"due": date(2024, 10, 6), "count": 1200, "price": 1_200_005,
                                "mobile": "+989123456789"})
        due = str(form.due)
        assert 'data-jalali-date' in due and 'dir="ltr"' in due and 'type="text"' in due
        assert 'value="۱۴۰۳/۰۷/۱۵"' in due
        assert "data-jalali-datetime" in str(form.at) and "data-jalali-date " not in str(form.at)
        assert 'value="۱٬۲۰۰"' in str(form.count)
        assert 'value="۱٬۲۰۰٬۰۰۵"' in str(form.price)
        assert "ریال" in str(form.price.description)


def test_english_renders_latin_digits(app):
    with app.test_request_context("/"):
        session["locale"] = "en"
        form = SampleForm(data={"due": date(2024, 10, 6)})
        assert 'value="1403/07/15"' in str(form.due)


def test_money_is_typed_in_the_display_unit(app):
    with app.app_context():
        set_setting("display.unit", "toman")
        db.session.commit()
    valid, form, _html = submit(app, {"due": "1403/01/01", "price": "۱۲٬۵۰۰٫۵"})
    assert valid, form.errors
    assert form.price.data == 125_005
    with app.test_request_context("/"):
        form = SampleForm(data={"price": 125_005})
        assert 'value="۱۲٬۵۰۰٫۵"' in str(form.price)
        assert "تومان" in str(form.price.description)


def test_a_bad_value_is_shown_back_as_typed(app):
    _valid, _form, html = submit(app, {"due": "1403/13/40"})
    assert 'value="1403/13/40"' in html["due"]
