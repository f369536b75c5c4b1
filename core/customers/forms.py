"""Customer forms (Flask-WTF): the customer record (with its custom fields) and a note."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.fields import DigitsIntegerField, JalaliDateField, JalaliDateTimeField


class CustomerForm(FlaskForm):
    kind = RadioField(_l("Kind"), choices=[("person", _l("Person")),
                                           ("organisation", _l("Organisation"))],
                      default="person")
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)])
    legal_name = StringField(_l("Legal name"), validators=[Length(max=200)],
                             description=_l("For organisations"))
    display_name = StringField(_l("Display name"), validators=[Length(max=200)],
                               description=_l("Leave empty to use the name above"))
    national_code = StringField(_l("National code"), render_kw={"dir": "ltr"})
    national_id = StringField(_l("National id"), render_kw={"dir": "ltr"})
    economic_code = StringField(_l("Economic code"), render_kw={"dir": "ltr"})
    mobiles = TextAreaField(_l("Mobiles"), description=_l("One per line"),
                            render_kw={"dir": "ltr", "rows": 2})
    phones = TextAreaField(_l("Phones"), description=_l("One per line"),
                           render_kw={"dir": "ltr", "rows": 2})
    emails = TextAreaField(_l("Emails"), description=_l("One per line"),
                           render_kw={"dir": "ltr", "rows": 2})
    birthday = JalaliDateField(_l("Birthday"), validators=[Optional()])
    anniversary = JalaliDateField(_l("Wedding anniversary"), validators=[Optional()])
    province = StringField(_l("Province"), validators=[Length(max=80)])
    city = StringField(_l("City"), validators=[Length(max=80)])
    line = StringField(_l("Address"), validators=[Length(max=300)])
    postal_code = StringField(_l("Postal code"), render_kw={"dir": "ltr"})
    source = StringField(_l("Source"), validators=[Length(max=80)],
                         description=_l("Where the customer came from"))
    owner_id = SelectField(_l("Owner"), coerce=int)
    tags = StringField(_l("Tags"), description=_l("Separated by commas"))
    consent_email = BooleanField(_l("Agrees to receive emails"))
    consent_sms = BooleanField(_l("Agrees to receive text messages"))

    custom_names: tuple[str, ...] = ()

    SERVICE_FIELDS = ("kind", "first_name", "last_name", "legal_name", "display_name",
                      "national_code", "national_id", "economic_code", "mobiles", "phones",
                      "emails", "birthday", "anniversary", "source", "owner_id", "tags",
                      "consent_email", "consent_sms")

    def service_values(self) -> dict:
        """The form's values as ``services.create_customer`` arguments."""
        values = {name: getattr(self, name).data for name in self.SERVICE_FIELDS}
        values["owner_id"] = values["owner_id"] or None
        values["address"] = {k: getattr(self, k).data for k in
                             ("province", "city", "line", "postal_code")}
        values["custom"] = {name: getattr(self, "custom_" + name).data
                            for name in self.custom_names}
        return values

    def fill_from(self, customer) -> None:
        """Show an existing customer's values in the form."""
        for name in self.SERVICE_FIELDS:
            if name in ("mobiles", "phones", "emails"):
                kind = name[:-1]
                getattr(self, name).data = "\n".join(customer.values(kind))
            elif name == "tags":
                self.tags.data = ", ".join(t.name for t in customer.tags)
            else:
                getattr(self, name).data = getattr(customer, name)
        self.owner_id.data = customer.owner_id or 0
        for name in self.custom_names:
            value = (customer.custom or {}).get(name)
            field = getattr(self, "custom_" + name)
            field.data = date.fromisoformat(value) if value and isinstance(
                field, JalaliDateField) else value
        if customer.addresses:
            address = customer.addresses[0]
            for name in ("province", "city", "line", "postal_code"):
                getattr(self, name).data = getattr(address, name)


def _custom_field(definition):
    label = definition.label
    if definition.type == "number":
        return DigitsIntegerField(label, validators=[Optional()])
    if definition.type == "date":
        return JalaliDateField(label, validators=[Optional()])
    if definition.type == "bool":
        return BooleanField(label)
    if definition.type == "choice":
        return SelectField(label, choices=[("", "—")] + [(c, c) for c in definition.choices])
    return StringField(label, validators=[Length(max=500)])


def customer_form(definitions) -> CustomerForm:
    """A CustomerForm with one more field per custom field definition (``custom_<name>``)."""
    extra = {"custom_" + d.name: _custom_field(d) for d in definitions}
    extra["custom_names"] = tuple(d.name for d in definitions)
    return type("CustomerFormWithCustom", (CustomerForm,), extra)()


class NoteForm(FlaskForm):
    kind = RadioField(_l("What"), choices=[("note", _l("Note")), ("call", _l("Phone call"))],
                      default="note")
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 3})


class TaskForm(FlaskForm):
    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=200)])
    due_at = JalaliDateTimeField(_l("Due"), validators=[Optional()])
    remind_at = JalaliDateTimeField(_l("Reminder"), validators=[Optional()],
                                    description=_l("An email and a note in My day at this time"))
    assignee_id = SelectField(_l("For"), coerce=int)
