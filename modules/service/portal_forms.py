"""Portal forms (Flask-WTF): a customer's new ticket and reply."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from modules.service.tickets import TYPE_LABELS


class PortalTicketForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[
        DataRequired(_l("Write a short subject.")), Length(max=250)],
        description=_l("In a few words: what is it about?"))
    type = SelectField(_l("Type"), choices=list(TYPE_LABELS.items()), default="request")
    item_id = SelectField(_l("Product"), coerce=int, default=0, validate_choice=True,
                          description=_l("One of the products you bought from us, if it is "
                                         "about one."))
    body = TextAreaField(_l("Details"), validators=[
        DataRequired(_l("Tell us what happened.")), Length(max=20000)], render_kw={"rows": 6})
    files = MultipleFileField(_l("Attachments"),
                              description=_l("Optional: a photo, a PDF or a document."))


class PortalReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[
        DataRequired(_l("Write your message.")), Length(max=20000)], render_kw={"rows": 4})
    files = MultipleFileField(_l("Attachments"))
