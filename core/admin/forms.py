"""Admin forms (labels are lazy so they follow the user's language)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


LOCALES = [("", _l("Deployment default")), ("fa", "فارسی"), ("en", "English")]


class InviteForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), coerce=int)
    team = SelectField(_l("Team"), coerce=int)
    locale = SelectField(_l("Language"), choices=LOCALES)


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), coerce=int)
    team = SelectField(_l("Team"), coerce=int)
    locale = SelectField(_l("Language"), choices=LOCALES)


class SeatsForm(FlaskForm):
    modules = MultiCheckboxField(_l("Module seats"))


class ActionForm(FlaskForm):
    """An empty form: a POST button with a CSRF token."""


class RoleForm(FlaskForm):
    name = StringField(_l("Role name"), validators=[DataRequired(), Length(max=80)])
    permissions = MultiCheckboxField(_l("Permissions"))
    default_scope = SelectField(_l("Record scope elsewhere"))


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=120)])


class TeamMembersForm(FlaskForm):
    members = MultiCheckboxField(_l("Members"), coerce=int)


class SettingsForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[Length(max=200)])
    national_id = StringField(_l("National id (شناسه ملی)"))
    economic_code = StringField(_l("Economic code"))
    address = TextAreaField(_l("Address"), validators=[Length(max=500)])
    postal_code = StringField(_l("Postal code"))
    logo = FileField(_l("Logo (PNG or JPEG, up to 1 MB)"))
    language = SelectField(_l("Default language"), choices=[("fa", "فارسی"), ("en", "English")])
    unit = SelectField(_l("Show amounts in"), choices=[("rial", _l("Rial")),
                                                       ("toman", _l("Toman"))])
    year_start_month = SelectField(_l("Fiscal year starts in (Jalali month)"), coerce=int)
    smtp_host = StringField(_l("SMTP server"))
    smtp_port = StringField(_l("SMTP port"))
    smtp_username = StringField(_l("SMTP user name"))
    smtp_password = PasswordField(_l("SMTP password"),
                                  description=_l("Leave empty to keep the stored password."))
    smtp_clear_password = BooleanField(_l("Remove the stored SMTP password"))
    smtp_tls = SelectField(_l("SMTP security"), choices=[
        ("starttls", "STARTTLS"), ("ssl", "SSL/TLS"), ("none", _l("None"))])
    smtp_from = StringField(_l("Sender address"))
    sms_provider = SelectField(_l("SMS gateway"), validate_choice=False)
    sms_config = TextAreaField(_l("SMS provider settings (JSON)"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = SelectField(_l("User"), coerce=str, validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional()])
    target = StringField(_l("Target contains"), validators=[Optional()])
    start = StringField(_l("From (Jalali)"), validators=[Optional()],
                        render_kw={"data-jalali-date": ""})
    end = StringField(_l("To (Jalali)"), validators=[Optional()],
                      render_kw={"data-jalali-date": ""})


class TotpEnrolForm(FlaskForm):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(min=6, max=6)])
