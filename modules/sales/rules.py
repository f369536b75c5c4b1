"""Cross-sell and up-sell: association rules mined from posted invoices, and suggestions.

A basket is one posted invoice (credit notes and drafts are left out); its items are the
distinct catalogue products on its lines (free-text lines have no product and are ignored).
Over the N baskets that hold at least one product, for every ordered pair of products A → B:

- support    = n(A and B) / N
- confidence = n(A and B) / n(A)
- lift       = confidence / (n(B) / N)

Pairs are counted in SQL, a self-join of the distinct (invoice, product) pairs grouped by
pair, so the work stays in the database however many lines there are; only pairs of products
bought at least ``min_count`` times together that pass the thresholds are written. A run
replaces every rule in one transaction. The thresholds are settings ``sales.rules.*``
(see ``DEFAULTS``); ``nightly_mine`` is the periodic job, the report page starts ``mine`` on
demand with a ``JobProgress``.

Up-sell is simpler: a product's ``upgrade_to`` link names the newer, better product.
"""

from dataclasses import dataclass, field

from sqlalchemy import DateTime, bindparam, delete, func, select, text
from sqlalchemy.orm import aliased

from core.database import get_setting, lock, set_setting, utcnow
from core.extensions import db
from core.jobs import job
from core.jobs.progress import JobProgress
from modules.sales.models.catalog import Product
from modules.sales.models.documents import Invoice, InvoiceLine
from modules.sales.models.rules import AssociationRule

KIND = "sales.rules"
STEPS = 3
DEFAULTS = {"min_support": 0.001, "min_confidence": 0.05, "min_lift": 1.2, "min_count": 3}
SUMMARY_KEY = "sales.rules.summary"
WORK_MEM = "256MB"  # PostgreSQL's work_mem while mining


def thresholds() -> dict:
    """The thresholds in force: the settings ``sales.rules.<name>`` over ``DEFAULTS``."""
    values = {}
    for name, default in DEFAULTS.items():
        value = get_setting(f"sales.rules.{name}")
        values[name] = type(default)(value) if value is not None else default
    return values


def set_thresholds(**values) -> None:
    """Store thresholds (only the names of ``DEFAULTS``; the caller commits)."""
    for name, value in values.items():
        if name not in DEFAULTS:
            raise KeyError(name)
        set_setting(f"sales.rules.{name}", type(DEFAULTS[name])(value))


# --- mining ---------------------------------------------------------------------------------

_BASKETS = """
    SELECT DISTINCT l.invoice_id AS basket, l.product_id AS product
    FROM sales_invoice_line l JOIN sales_invoice i ON i.id = l.invoice_id
    WHERE i.kind = 'invoice' AND i.status = 'posted' AND l.product_id IS NOT NULL
"""

_MINE = f"""
    INSERT INTO sales_association_rule
        (antecedent_id, consequent_id, support, confidence, lift, pair_count,
         antecedent_count, consequent_count, basket_count, computed_at)
    WITH basket AS ({_BASKETS}),
    item AS (SELECT product, COUNT(*) AS n FROM basket GROUP BY product),
    frequent AS (
        SELECT b.basket, b.product FROM basket b JOIN item ON item.product = b.product
        WHERE item.n >= :min_count
    ),
    pair AS (
        SELECT x.product AS a, y.product AS c, COUNT(*) AS n
        FROM frequent x JOIN frequent y ON y.basket = x.basket AND y.product <> x.product
        GROUP BY x.product, y.product
        HAVING COUNT(*) >= :min_count
    )
    SELECT pair.a, pair.c,
           CAST(pair.n AS FLOAT) / :baskets,
           CAST(pair.n AS FLOAT) / ia.n,
           CAST(pair.n AS FLOAT) * :baskets / (CAST(ia.n AS FLOAT) * ic.n),
           pair.n, ia.n, ic.n, :baskets, :computed_at
    FROM pair JOIN item ia ON ia.product = pair.a JOIN item ic ON ic.product = pair.c
    WHERE CAST(pair.n AS FLOAT) >= :min_support * :baskets
      AND CAST(pair.n AS FLOAT) >= :min_confidence * ia.n
      AND CAST(pair.n AS FLOAT) * :baskets >= :min_lift * CAST(ia.n AS FLOAT) * ic.n
"""  # nosec B608  # the fixed basket query pasted in; every value is bound


def basket_count() -> int:
    """N: posted invoices with at least one catalogue product."""
    return db.session.execute(
        select(func.count(func.distinct(InvoiceLine.invoice_id)))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.kind == "invoice", Invoice.status == "posted",
               InvoiceLine.product_id.is_not(None))).scalar() or 0


def mine(job_id: int | None = None) -> dict:
    """Recompute every association rule; returns (and stores) a summary of the run.

    Reports progress on the job ``job_id`` (creates one when None). The old rules are
    deleted and the new ones inserted in the same transaction, so readers see one or the
    other, never a mix.
    """
    progress = JobProgress.get(job_id) if job_id else JobProgress.create(KIND)
    progress.start(total=STEPS, message="")
    try:
        limits = thresholds()
        baskets = basket_count()
        progress.advance(1)
        lock(KIND)  # one mining run writes at a time
        computed_at = utcnow()
        db.session.execute(delete(AssociationRule))
        if baskets and db.session.get_bind().dialect.name == "postgresql":
            # the pair counts hash in memory instead of spilling to disk (this transaction only)
            db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        if baskets:
            db.session.execute(text(_MINE).bindparams(
                bindparam("computed_at", type_=DateTime(timezone=True))), {
                "baskets": baskets, "computed_at": computed_at,
                "min_count": max(1, int(limits["min_count"])),
                "min_support": float(limits["min_support"]),
                "min_confidence": float(limits["min_confidence"]),
                "min_lift": float(limits["min_lift"])})
        rules = db.session.execute(select(func.count(AssociationRule.id))).scalar() or 0
        summary = {"computed_at": computed_at.isoformat(), "baskets": baskets, "rules": rules,
                   "thresholds": limits}
        set_setting(SUMMARY_KEY, summary)
        progress.advance(1)  # commits the rules, the summary and the progress together
        progress.record.done = STEPS
        progress.finish(result={"baskets": baskets, "rules": rules})
    except Exception as exc:
        progress.fail(f"{exc.__class__.__name__}: {exc}")
        raise
    return summary


@job(module="sales")
def nightly_mine() -> dict:
    """The periodic job: mine the rules again from every posted invoice."""
    return mine()


def last_summary() -> dict | None:
    """What the last run stored (None before the first one)."""
    return get_setting(SUMMARY_KEY)


def strongest(limit: int = 100) -> list[tuple[AssociationRule, Product, Product]]:
    """The strongest rules (by lift, then confidence, then support) with their products."""
    antecedent = aliased(Product)
    consequent = aliased(Product)
    rows = db.session.execute(
        select(AssociationRule, antecedent, consequent)
        .join(antecedent, antecedent.id == AssociationRule.antecedent_id)
        .join(consequent, consequent.id == AssociationRule.consequent_id)
        .order_by(AssociationRule.lift.desc(), AssociationRule.confidence.desc(),
                  AssociationRule.support.desc(), AssociationRule.id)
        .limit(limit)).all()
    return [tuple(row) for row in rows]


# --- suggestions ----------------------------------------------------------------------------

@dataclass
class Suggestion:
    """A product to offer, and why: the rule (cross-sell) or the product it upgrades."""

    product: Product
    rule: AssociationRule | None = None
    because: Product | None = None  # the rule's antecedent
    upgrades: Product | None = None


@dataclass
class Suggestions:
    cross_sell: list[Suggestion] = field(default_factory=list)
    up_sell: list[Suggestion] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cross_sell or self.up_sell)


def purchased_products(customer_id: int) -> set[int]:
    """The products on the customer's posted invoices (credit notes left out)."""
    return set(db.session.execute(
        select(InvoiceLine.product_id).distinct()
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.customer_id == customer_id, Invoice.kind == "invoice",
               Invoice.status == "posted", InvoiceLine.product_id.is_not(None))).scalars())


def suggestions_for(product_ids, customer=None, limit: int = 5) -> Suggestions:
    """What to offer with a basket of products.

    Cross-sell: the consequents of the rules whose antecedent is in the basket, strongest
    first (each product once, by its best lift, then confidence). Up-sell: the ``upgrade_to``
    of the products in the basket. Products already in the basket, products the customer
    (when given) has already bought, and inactive products are never offered.
    """
    basket = {int(p) for p in product_ids or () if p}
    result = Suggestions()
    if not basket:
        return result
    excluded = basket | (purchased_products(customer.id) if customer is not None else set())
    antecedent = aliased(Product)
    rules = db.session.execute(
        select(AssociationRule, Product, antecedent)
        .join(Product, Product.id == AssociationRule.consequent_id)
        .join(antecedent, antecedent.id == AssociationRule.antecedent_id)
        .where(AssociationRule.antecedent_id.in_(basket),
               AssociationRule.consequent_id.not_in(excluded), Product.active.is_(True))
        .order_by(AssociationRule.lift.desc(), AssociationRule.confidence.desc(),
                  AssociationRule.id)).all()
    seen: set[int] = set()
    for rule, product, because in rules:
        if product.id not in seen and len(result.cross_sell) < limit:
            seen.add(product.id)
            result.cross_sell.append(Suggestion(product, rule=rule, because=because))
    upgrade = aliased(Product)
    rows = db.session.execute(
        select(Product, upgrade).join(upgrade, upgrade.id == Product.upgrade_to_id)
        .where(Product.id.in_(basket), upgrade.active.is_(True),
               upgrade.id.not_in(excluded | seen))
        .order_by(Product.name, Product.id)).all()
    for product, better in rows:
        if better.id not in {s.product.id for s in result.up_sell} and len(
                result.up_sell) < limit:
            result.up_sell.append(Suggestion(better, upgrades=product))
    return result


def register(app) -> None:
    """The nightly mining job and the customer 360 panel."""
    from core import jobs
    from core.customers.panels import add_panel_provider

    jobs.periodic("sales.rules", 24 * 3600, nightly_mine)
    add_panel_provider(app, customer_panel, module="sales")


def customer_panel(customer):
    """The 360 card: what customers who bought this customer's products also bought."""
    from flask import render_template
    from markupsafe import Markup

    from core.auth.permissions import has_permission

    if not has_permission("sales.view"):
        return None
    bought = purchased_products(customer.id)
    suggestions = suggestions_for(bought, customer=customer)
    return Markup(render_template("sales/_suggestions.html", suggestions=suggestions,
                                  mode="customer", customer=customer, bought=bool(bought)))
