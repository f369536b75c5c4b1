"""Portal sign-in forms: the address to send a code to, and the code."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    address = StringField(_l("Mobile number or email"),
                          validators=[DataRequired(_l("Enter your mobile number or email.")),
                                      Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code we sent you.")),
                                               Length(max=12)])
