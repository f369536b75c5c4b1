"""Pipeline forms (Flask-WTF): a deal, its products, activities, closing it, a pipeline."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.fields import DigitsIntegerField, JalaliDateField, MoneyField


class DealForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    customer_id = SelectField(_l("Customer"), coerce=int, validate_choice=False)
    stage_id = SelectField(_l("Pipeline and stage"), coerce=int)
    value = MoneyField(_l("Value"), validators=[Optional()])
    expected_close = JalaliDateField(_l("Expected close"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=int)
    source = StringField(_l("Source"), validators=[Length(max=80)],
                         description=_l("Where the opportunity came from"))
    campaign = StringField(_l("Campaign"), validators=[Length(max=120)])

    SERVICE_FIELDS = ("title", "customer_id", "stage_id", "value", "expected_close",
                      "owner_id", "source", "campaign")

    def service_values(self) -> dict:
        values = {name: getattr(self, name).data for name in self.SERVICE_FIELDS}
        values["owner_id"] = values["owner_id"] or None
        return values

    def fill_from(self, deal) -> None:
        for name in self.SERVICE_FIELDS:
            getattr(self, name).data = getattr(deal, name)
        self.owner_id.data = deal.owner_id or 0


class LineForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int)
    quantity = DigitsIntegerField(_l("Quantity"), validators=[DataRequired()], default=1)
    unit_price = MoneyField(_l("Unit price"), validators=[Optional()],
                            description=_l("Empty: the customer's price list"))


class ActivityForm(FlaskForm):
    kind = RadioField(_l("What"), default="note", choices=[
        ("note", _l("Note")), ("call", _l("Phone call")), ("meeting", _l("Meeting")),
        ("email", _l("Email"))])
    body = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 3})


class CloseForm(FlaskForm):
    status = RadioField(_l("Outcome"), choices=[("won", _l("Won")), ("lost", _l("Lost"))],
                        default="won")
    lost_reason = StringField(_l("Why was it lost?"), validators=[Length(max=300)])
    competitor = StringField(_l("Competitor who won it"), validators=[Length(max=120)])


class PipelineForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
