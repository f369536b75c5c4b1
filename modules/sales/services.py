"""What other modules may call in sales (DESIGN §2: modules talk only through services.py).

Catalogue: the customer's price of a product and a user's discount limit. Pipeline: open a
deal for a customer (e.g. from a qualified lead) and read a customer's deals.
"""

from sqlalchemy import select

from core.extensions import db
from modules.sales.catalog import discount_limit, price_for
from modules.sales.invoices import credited_total, replaced_by
from modules.sales.models.catalog import Product
from modules.sales.models.pipeline import Deal
from modules.sales.pipeline import PipelineError, create_deal

__all__ = ["PipelineError", "create_deal", "customer_deals", "discount_limit", "price_for",
           "category_buyers", "credited_total", "product_by_code", "product_categories",
           "products_by_ids", "products_for_choice", "replaced_by"]


def product_by_code(code: str) -> Product | None:
    """The catalogue item with this code (as stored: Latin digits), or None."""
    from modules.sales.catalog import clean_code

    return db.session.execute(select(Product).where(Product.code == clean_code(code))).scalar()


def customer_deals(customer_id: int, status: str | None = None) -> list[Deal]:
    """A customer's deals, newest first (not scoped: the caller decides who sees them)."""
    stmt = select(Deal).where(Deal.customer_id == customer_id).order_by(Deal.created_at.desc())
    if status:
        stmt = stmt.where(Deal.status == status)
    return list(db.session.execute(stmt).unique().scalars())


def products_by_ids(ids) -> dict[int, Product]:
    """The catalogue items with these ids, by id (missing ids are left out)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(
        select(Product).where(Product.id.in_(ids))).unique().scalars()}


def products_for_choice(kind: str | None = "product", limit: int = 1000) -> list[Product]:
    """Products on sale (of ``kind``; None for all), by name, for pick lists."""
    stmt = select(Product).where(Product.active.is_(True)).order_by(Product.name).limit(limit)
    if kind:
        stmt = stmt.where(Product.kind == kind)
    return list(db.session.execute(stmt).unique().scalars())


def product_categories() -> list[tuple[int, str]]:
    """(id, name) of every product category, by name (for pick lists in other modules)."""
    from modules.sales.models.catalog import ProductCategory

    return [tuple(row) for row in db.session.execute(
        select(ProductCategory.id, ProductCategory.name).order_by(ProductCategory.name))]


def category_buyers(category_id: int):
    """A select of the ids of customers with a posted invoice line of a product in the category."""
    from modules.sales.models.documents import Invoice, InvoiceLine

    return (select(Invoice.customer_id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .join(Product, Product.id == InvoiceLine.product_id)
            .where(Invoice.status == "posted", Invoice.kind == "invoice",
                   Product.category_id == category_id))
