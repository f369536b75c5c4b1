"""WTForms of the lead pages: a lead, conversion, rules, CSV import, lead capture forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from modules.marketing.leads import RULE_FIELDS, STATUS_LABELS

OPS = [("eq", _l("is")), ("contains", _l("contains")), ("set", _l("is filled in")),
       ("in", _l("is one of (comma-separated)"))]
EVENTS = [("form", _l("Sent a form")), ("open", _l("Opened an email")),
          ("click", _l("Clicked a link")), ("visit", _l("Visited the site")),
          ("note", _l("A note was added"))]


def field_choices() -> list[tuple[str, str]]:
    """Lead fields a rule can test, with readable names."""
    from modules.marketing.lead_forms import FIELD_LABELS

    names = {**FIELD_LABELS, "source": _l("Source"), "utm_source": "utm_source",
             "utm_medium": "utm_medium", "utm_campaign": "utm_campaign",
             "utm_term": "utm_term", "utm_content": "utm_content",
             "rfm_segment": _l("RFM segment of the customer it became")}
    return [(f, names.get(f, f)) for f in RULE_FIELDS]


class LeadEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    mobile = StringField(_l("Mobile"), validators=[Length(max=40)])
    email = StringField(_l("Email"), validators=[Length(max=200)])
    company = StringField(_l("Company"), validators=[Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Length(max=120)])
    city = StringField(_l("City"), validators=[Length(max=80)])
    status = SelectField(_l("Status"), choices=[(k, v) for k, v in STATUS_LABELS.items()
                                                 if k != "converted"])
    owner_id = SelectField(_l("Owner"), coerce=int)
    consent_email = BooleanField(_l("Agreed to receive emails"))
    consent_sms = BooleanField(_l("Agreed to receive SMS"))
    notes = TextAreaField(_l("Notes"))


class ConvertForm(FlaskForm):
    create_deal = BooleanField(_l("Also open a deal"))


class ScoringRuleForm(FlaskForm):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[("profile", _l("Profile: a fact about the lead")),
                                            ("behaviour", _l("Behaviour: something they did"))])
    field = SelectField(_l("Field"), choices=[])
    op = SelectField(_l("Condition"), choices=OPS)
    value = StringField(_l("Value"), validators=[Length(max=200)])
    event = SelectField(_l("Activity"), choices=EVENTS)
    points = IntegerField(_l("Points"), validators=[DataRequired(),
                                                    NumberRange(min=-1000, max=1000)])
    max_times = IntegerField(_l("At most this many times"), validators=[
        Optional(), NumberRange(min=1, max=1000)])
    active = BooleanField(_l("Active"), default=True)


class AssignmentRuleForm(FlaskForm):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=120)])
    field = SelectField(_l("When the field"), choices=[])
    value = StringField(_l("equals"), validators=[Length(max=200)])
    user_id = SelectField(_l("Give it to"), coerce=int)
    team_id = SelectField(_l("Team"), coerce=int)
    position = IntegerField(_l("Order"), default=0, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(), FileAllowed(
        ["csv", "txt"], _l("Choose a .csv file."))])


class LeadCaptureForm(FlaskForm):
    name = StringField(_l("Form name"), validators=[DataRequired(), Length(max=160)])
    title = StringField(_l("Title shown to visitors"), validators=[Length(max=200)])
    intro = TextAreaField(_l("Introduction"))
    consent_text = StringField(_l("Consent checkbox text"), validators=[Length(max=300)],
                               description=_l("Leave empty to ask for no consent."))
    thanks_message = TextAreaField(_l("Thank-you message"))
    allowed_origins = TextAreaField(
        _l("Sites that may embed the form"),
        description=_l("One address per line, e.g. https://www.example.ir"))
    active = BooleanField(_l("Accepting submissions"), default=True)
