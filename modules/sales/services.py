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


def won_deals_of_customers(customer_ids, since=None, deal_ids=()) -> list[dict]:
    """Won deals of these customers (closed at or after ``since``) or with these ids, as
    plain dicts (keys: id, customer_id, value in rials, closed_at). For marketing attribution.
    """
    rows = {}
    for column, values in ((Deal.customer_id, customer_ids), (Deal.id, deal_ids)):
        ids = sorted({i for i in values if i is not None})
        for start in range(0, len(ids), 500):
            stmt = select(Deal.id, Deal.customer_id, Deal.value, Deal.closed_at).where(
                Deal.status == "won", Deal.closed_at.is_not(None),
                column.in_(ids[start:start + 500]))
            if since is not None and column is Deal.customer_id:
                stmt = stmt.where(Deal.closed_at >= since)
            rows.update({r.id: dict(r._mapping) for r in db.session.execute(stmt)})
    return [rows[i] for i in sorted(rows)]


def same_competitor(a: str, b: str) -> bool:
    """Whether two competitor names are the same once normalised (Persian letters, case,
    spaces)."""
    from core.i18n import normalize

    def key(name):
        return " ".join(normalize(name or "").lower().split())

    return bool(key(a)) and key(a) == key(b)


def lost_deals_to(names) -> list[dict]:
    """Lost deals whose competitor matches one of ``names`` (normalised), newest first.

    Keys: id, title, customer_id, value, closed_at, lost_reason, competitor.
    """
    names = [n for n in names if n]
    stmt = select(Deal.id, Deal.title, Deal.customer_id, Deal.value, Deal.closed_at,
                  Deal.lost_reason, Deal.competitor).where(
        Deal.status == "lost", Deal.competitor != "").order_by(Deal.closed_at.desc(), Deal.id)
    return [dict(r._mapping) for r in db.session.execute(stmt)
            if any(same_competitor(r.competitor, n) for n in names)]
