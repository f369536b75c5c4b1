"""Catalogue forms (Flask-WTF): a product or service, a price list, one list price."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.fields import DigitsIntegerField, MoneyField

KIND_CHOICES = [("product", _l("Product")), ("service", _l("Service"))]
TAX_CHOICES = [("standard", _l("Standard VAT")), ("exempt", _l("Exempt from VAT"))]
MATCH_CHOICES = [("tag", _l("Customers with a tag")),
                 ("field", _l("Customers with a custom-field value")),
                 ("segment", _l("Customers in an RFM segment"))]


class ProductForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"dir": "ltr", "autocomplete": "off"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="product")
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=30)],
                       render_kw={"list": "sales-units"},
                       description=_l("Pick one or type another"))
    category_id = SelectField(_l("Category"), coerce=int)
    new_category = StringField(_l("Or a new category"), validators=[Length(max=120)])
    price = MoneyField(_l("Price"), validators=[DataRequired()])
    tax_category = SelectField(_l("Tax"), choices=TAX_CHOICES, default="standard")
    stock_quantity = DigitsIntegerField(_l("Stock"), validators=[Optional()],
                                        description=_l("Leave empty if you do not track stock"))
    upgrade_to_id = SelectField(_l("Upgrade to"), coerce=int,
                                description=_l("The better product to offer instead"))
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)],
                                render_kw={"rows": 3})
    active = BooleanField(_l("On sale"), default=True)

    SERVICE_FIELDS = ("code", "name", "kind", "unit", "price", "tax_category",
                      "stock_quantity", "description", "active")

    def service_values(self) -> dict:
        values = {name: getattr(self, name).data for name in self.SERVICE_FIELDS}
        values["category_id"] = self.category_id.data or None
        values["upgrade_to_id"] = self.upgrade_to_id.data or None
        return values

    def fill_from(self, product) -> None:
        for name in self.SERVICE_FIELDS:
            getattr(self, name).data = getattr(product, name)
        self.category_id.data = product.category_id or 0
        self.upgrade_to_id.data = product.upgrade_to_id or 0


class PriceListForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    match_kind = SelectField(_l("For"), choices=MATCH_CHOICES, default="tag")
    match_value = StringField(_l("Tag or field value"), validators=[Length(max=120)],
                              description=_l("The tag name, or the value of the custom field"))
    match_field = SelectField(_l("Custom field"), choices=[])
    segment = SelectField(_l("RFM segment"), choices=[])
    priority = DigitsIntegerField(_l("Priority"), validators=[Optional()], default=100,
                                  description=_l("When several lists apply, the lowest "
                                                 "number wins"))
    active = BooleanField(_l("In use"), default=True)


class ListPriceForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int)
    price = MoneyField(_l("Price in this list"), validators=[DataRequired()])
