"""Ticket forms (Flask-WTF): a new ticket, a reply or note, changes, merging, categories."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.fields import DigitsIntegerField
from modules.service.tickets import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS


def _choices(labels: dict) -> list:
    return list(labels.items())


class TicketForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validate_choice=False)
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=250)])
    body = TextAreaField(_l("What the customer says"), validators=[Length(max=20000)],
                         render_kw={"rows": 5})
    type = SelectField(_l("Type"), choices=_choices(TYPE_LABELS), default="request")
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS), default="normal")
    channel = SelectField(_l("Channel"), choices=_choices(CHANNEL_LABELS), default="phone")
    category_id = SelectField(_l("Category"), coerce=int, default=0)
    product_name = StringField(_l("Product"), validators=[Length(max=200)],
                               description=_l("Its name, or its code in the sales catalogue"))
    serial = StringField(_l("Serial number"), validators=[Length(max=80)])
    files = MultipleFileField(_l("Attachments"))


class ReplyForm(FlaskForm):
    kind = RadioField(_l("Send as"), default="public", choices=[
        ("public", _l("Public reply (sent to the customer)")),
        ("internal", _l("Internal note (only colleagues see it)"))])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)],
                         render_kw={"rows": 4})
    files = MultipleFileField(_l("Attachments"))


class ChangeForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS))
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))
    owner_id = SelectField(_l("Assignee"), coerce=int)
    team_id = SelectField(_l("Team"), coerce=int)


class MergeForm(FlaskForm):
    into = StringField(_l("Merge into ticket"), validators=[DataRequired(), Length(max=20)],
                       description=_l("The reference of the ticket that stays, e.g. T-000123"))


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    team_id = SelectField(_l("Default team"), coerce=int, default=0,
                          description=_l("New tickets in this category go to this team"))
    position = DigitsIntegerField(_l("Position"), validators=[Optional()], default=0)
    active = BooleanField(_l("Active"), default=True)
