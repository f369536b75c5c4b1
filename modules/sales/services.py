"""What other modules may call in sales (DESIGN §2: modules talk only through services.py).

Catalogue: the customer's price of a product and a user's discount limit. Pipeline: open a
deal for a customer (e.g. from a qualified lead) and read a customer's deals.
"""

from sqlalchemy import select

from core.extensions import db
from modules.sales.catalog import discount_limit, price_for
from modules.sales.models.catalog import Product
from modules.sales.models.pipeline import Deal
from modules.sales.pipeline import PipelineError, create_deal

__all__ = ["PipelineError", "create_deal", "customer_deals", "discount_limit", "price_for",
           "product_by_code"]


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
