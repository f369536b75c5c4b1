"""Forms for quotes, invoices and payments, and the line editor they share.

The line editor works without JavaScript: "Add a line" and "Recalculate" submit the form and
the page comes back with one more line, or with the price-list prices filled in and the
totals computed; "Save" stores it through the service.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from core.auth.scope import scoped
from core.customers.models import Customer
from core.extensions import db
from core.fields import JalaliDateField, MoneyField
from core.i18n import digits, format_number
from modules.sales.models.catalog import Product

CUSTOMER_CHOICES_LIMIT = 500


def _optional_int(value):
    if value in (None, "", "0", 0, "None"):
        return None
    return int(value)


class LineForm(Form):
    """One line; left entirely empty, it is ignored."""

    product_id = SelectField(_l("Product"), coerce=_optional_int, validate_choice=False)
    description = StringField(_l("Description"), validators=[Length(max=300)])
    quantity = StringField(_l("Quantity"), render_kw={"dir": "ltr", "inputmode": "decimal",
                                                      "size": 6})
    unit = StringField(_l("Unit"), validators=[Length(max=30)], render_kw={"size": 6})
    unit_price = MoneyField(_l("Unit price"), validators=[Optional()], description="")
    discount_percent = StringField(_l("Discount percent"), render_kw={
        "dir": "ltr", "inputmode": "decimal", "size": 4})
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not (self.product_id.data or (self.description.data or "").strip()
                    or (self.quantity.data or "").strip())

    def item(self) -> dict:
        """The line as the services read it."""
        return {"product_id": self.product_id.data,
                "description": self.description.data or "",
                "quantity": (self.quantity.data or "").strip(),
                "unit": self.unit.data or "",
                "unit_price": self.unit_price.data,
                "discount_percent": (self.discount_percent.data or "").strip()}


class _DocumentForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=_optional_int, validate_choice=False)
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=500)
    discount = MoneyField(_l("Discount on the whole document"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)], render_kw={"rows": 3})

    def kept_lines(self) -> list[tuple[int, LineForm]]:
        """(entry index, line form) of the lines to keep: not blank, not marked removed."""
        return [(i, entry.form) for i, entry in enumerate(self.lines)
                if not entry.form.remove.data and not entry.form.is_blank()]

    def put_errors(self, errors: dict[str, str], kept: list[int]) -> None:
        """Show service errors (``lines-<i>-<field>`` over the kept lines) on the fields."""
        for key, message in errors.items():
            if key.startswith("lines-"):
                _prefix, index, name = key.split("-", 2)
                entry = self.lines[kept[int(index)]].form if int(index) < len(kept) else None
                field = getattr(entry, name, None) if entry is not None else None
            else:
                field = getattr(self, key, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)


class QuoteForm(_DocumentForm):
    valid_until = JalaliDateField(_l("Valid until"), validators=[Optional()])
    deal_id = HiddenField(filters=[lambda v: int(v) if str(v or "").isdigit() else None])


class InvoiceForm(_DocumentForm):
    due_date = JalaliDateField(_l("Due date"), validators=[Optional()])


def product_choices() -> list[tuple]:
    """Products on sale, by name, with the stock when it is kept (first: a free-text line)."""
    rows = db.session.execute(
        select(Product.id, Product.code, Product.name, Product.stock_quantity)
        .where(Product.active.is_(True)).order_by(Product.name)).all()

    def label(code, name, stock) -> str:
        text = f"{name} ({digits(code)})"
        return text if stock is None else text + " · " + _("%(n)s in stock",
                                                           n=format_number(stock))

    return [(0, "—")] + [(pid, label(code, name, stock)) for pid, code, name, stock in rows]


def customer_choices(selected: int | None = None) -> list[tuple]:
    """Customers the user may see, by name (at most 500, plus the selected one)."""
    stmt = scoped(select(Customer.id, Customer.display_name), Customer, "customers")
    rows = db.session.execute(stmt.order_by(Customer.display_name)
                              .limit(CUSTOMER_CHOICES_LIMIT)).all()
    choices = [(cid, name) for cid, name in rows]
    if selected and selected not in {cid for cid, _name in choices}:
        found = db.session.execute(stmt.where(Customer.id == selected)).first()
        if found:
            choices.insert(0, tuple(found))
    return [(0, "—")] + choices


def prepare(form: _DocumentForm, selected_customer: int | None = None) -> None:
    """Fill the choices of every select in the form."""
    products = product_choices()
    form.customer_id.choices = customer_choices(selected_customer or form.customer_id.data)
    for entry in form.lines:
        entry.form.product_id.choices = products


class SendQuoteForm(FlaskForm):
    to = StringField(_l("Email"), validators=[Length(max=254)],
                     render_kw={"dir": "ltr", "type": "email", "autocomplete": "email"})
    message = TextAreaField(_l("Message"), validators=[Length(max=3000)], render_kw={"rows": 3})


class AnswerForm(FlaskForm):
    note = TextAreaField(_l("Anything to add?"), validators=[Length(max=2000)],
                         render_kw={"rows": 2})


class PaymentForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=_optional_int, validate_choice=False)
    method = RadioField(_l("Paid by"), choices=[
        ("cash", _l("Cash")), ("card", _l("Card")), ("transfer", _l("Bank transfer")),
        ("cheque", _l("Cheque"))], default="cash")
    amount = MoneyField(_l("Amount"))
    received_on = JalaliDateField(_l("Received on"), validators=[Optional()])
    invoice_id = SelectField(_l("Settles"), coerce=_optional_int, validate_choice=False)
    reference = StringField(_l("Tracking number"), validators=[Length(max=100)],
                            render_kw={"dir": "ltr"},
                            description=_l("For card payments and transfers"))
    sayad_number = StringField(_l("Sayad number"), render_kw={
        "dir": "ltr", "inputmode": "numeric", "autocomplete": "off"},
        description=_l("The cheque's 16-digit Sayad id"))
    bank = StringField(_l("Bank"), validators=[Length(max=80)])
    cheque_due_date = JalaliDateField(_l("Cheque date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)], render_kw={"rows": 2})

    def validate(self, extra_validators=None) -> bool:
        """The fields, and for a cheque its Sayad number, bank and date, all at once."""
        from modules.sales.payments import cheque_errors

        valid = super().validate(extra_validators)
        if self.method.data == "cheque":
            for name, message in cheque_errors(self.sayad_number.data, self.bank.data,
                                               self.cheque_due_date.data).items():
                field = getattr(self, name)
                if not field.errors:
                    field.errors = [*field.errors, message]
                    valid = False
        return valid
