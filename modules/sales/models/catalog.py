"""Sales tables: the catalogue (products, services, categories) and price lists."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

KINDS = ("product", "service")
TAX_CATEGORIES = ("standard", "exempt")
# How a price list picks its customers: a tag they carry, a custom-field value, an RFM segment.
MATCH_KINDS = ("tag", "field", "segment")


class ProductCategory(db.Model):
    """A group of products ("Laptops", "Installation services")."""

    __tablename__ = "sales_product_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Product(db.Model):
    """A product or service the company sells, at a base price in integer rials."""

    __tablename__ = "sales_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="product")
    unit: Mapped[str] = mapped_column(String(30), default="عدد")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_product_category.id", ondelete="SET NULL"), index=True)
    price: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_category: Mapped[str] = mapped_column(String(20), default="standard")
    stock_quantity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    upgrade_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_product.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    category: Mapped[ProductCategory | None] = relationship(lazy="joined")
    upgrade_to: Mapped["Product | None"] = relationship(remote_side=[id])

    def to_dict(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "kind": self.kind,
                "unit": self.unit, "category_id": self.category_id, "price": self.price,
                "tax_category": self.tax_category, "stock_quantity": self.stock_quantity,
                "active": self.active, "upgrade_to_id": self.upgrade_to_id}


class PriceList(db.Model):
    """Prices for one class of customers: those with a tag, a custom-field value or a segment.

    When several lists match a customer, the lowest ``priority`` number wins.
    """

    __tablename__ = "sales_price_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    match_kind: Mapped[str] = mapped_column(String(10), default="tag")
    match_field: Mapped[str] = mapped_column(String(60), default="")  # custom field name
    match_value: Mapped[str] = mapped_column(String(120), default="")  # tag, value or segment
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list["PriceListItem"]] = relationship(
        back_populates="price_list", cascade="all, delete-orphan")


class PriceListItem(db.Model):
    """The price of one product in one price list (integer rials)."""

    __tablename__ = "sales_price_list_item"
    __table_args__ = (UniqueConstraint("price_list_id", "product_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(
        ForeignKey("sales_price_list.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("sales_product.id", ondelete="CASCADE"), index=True)
    price: Mapped[int] = mapped_column(BigInteger)

    price_list: Mapped[PriceList] = relationship(back_populates="items")
    product: Mapped[Product] = relationship(lazy="joined")
