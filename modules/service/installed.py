"""Installed base and warranties: items customers own, from posted sales invoices or by hand.

When sales is active, every posted invoice line of a product (not a service) becomes one
``InstalledItem`` per unit, bought on the invoice date, under warranty for the product's
``WarrantyTerm`` (or the default term) counted in Jalali months; no term, no warranty end.
A line is recorded once, however often the event is replayed. A credit note that credits its
invoice in full takes that invoice's items back (a serial typed on one moves to the matching
item of a corrective invoice).

    warranty_status(customer_id, serial="SN-1", on_day=date.today())  # covered|expired|unknown
    check_warranty(ticket)   # sets ticket.warranty_covered for warranty claims
"""

from datetime import date

import jdatetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from core.events import invoice_posted, module_listener
from core.extensions import db
from core.i18n import local_date, to_latin_digits
from modules.service.models.assets import InstalledItem, WarrantyTerm

STATUS_LABELS = {"covered": _l("Under warranty"), "expired": _l("Warranty expired"),
                 "unknown": _l("Warranty unknown")}
MAX_UNITS = 20  # a line of more units becomes one item that says how many


class AssetError(ValueError):
    """An item or warranty term that cannot be saved; the message is shown to the user."""


def canonical_serial(serial: str | None) -> str:
    """A serial as stored and compared: Latin digits, upper case, no outer spaces."""
    return to_latin_digits((serial or "").strip()).upper()[:80]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` Jalali months (the 31st of Shahrivar + 1 → the 30th of Mehr)."""
    j = jdatetime.date.fromgregorian(date=day)
    index = j.month - 1 + months
    year, month = j.year + index // 12, index % 12 + 1
    last = 31 if month <= 6 else 30 if month < 12 else (30 if jdatetime.date(
        year, 1, 1).isleap() else 29)
    return jdatetime.date(year, month, min(j.day, last)).togregorian()


def warranty_months(product_id: int | None) -> int | None:
    """The product's warranty in months, else the default term, else None."""
    terms = {t.product_id: t.months for t in db.session.execute(
        select(WarrantyTerm).where((WarrantyTerm.product_id == product_id)
                                   | WarrantyTerm.product_id.is_(None))).scalars()}
    if product_id is not None and product_id in terms:
        return terms[product_id]
    return terms.get(None)


def warranty_end(purchased_on: date | None, product_id: int | None) -> date | None:
    """When the warranty of a product bought on ``purchased_on`` ends (None: no term)."""
    months = warranty_months(product_id)
    if purchased_on is None or not months:
        return None
    return add_months(purchased_on, months)


def save_item(item: InstalledItem | None, *, customer_id: int, product_name: str,
              serial: str = "", purchased_on: date | None = None,
              warranty_until: date | None = None, product_id: int | None = None,
              notes: str = "") -> InstalledItem:
    """Add or change an item by hand; without an end date it follows the product's term."""
    product_name = (product_name or "").strip()
    if not product_name:
        raise AssetError(str(_l("Name the product.")))
    if purchased_on and warranty_until and warranty_until < purchased_on:
        raise AssetError(str(_l("The warranty cannot end before the purchase.")))
    if item is None:
        item = InstalledItem(source="manual")
        db.session.add(item)
    item.customer_id, item.product_name, item.product_id = customer_id, product_name[:200], \
        product_id
    item.serial, item.purchased_on, item.notes = canonical_serial(serial), purchased_on, \
        (notes or "").strip()[:500]
    item.warranty_until = warranty_until or warranty_end(purchased_on, product_id)
    db.session.flush()
    return item


# --- from sales invoices ---------------------------------------------------------------------

def _sales():
    from modules.sales import services

    return services


def record_invoice(invoice) -> list[InstalledItem]:
    """Items for the product lines of a posted invoice that are not recorded yet."""
    if invoice.kind != "invoice" or invoice.status != "posted":
        return []
    done = set(db.session.execute(select(InstalledItem.line_id).where(
        InstalledItem.invoice_id == invoice.id)).scalars())
    lines = [line for line in invoice.lines if line.product_id and line.id not in done]
    products = _sales().products_by_ids(line.product_id for line in lines)
    purchased_on = invoice.issue_date or local_date(invoice.posted_at)
    created = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None or product.kind != "product":
            continue
        units = max(1, (line.quantity or 0) // 1000)
        copies, notes = (units, "") if units <= MAX_UNITS else (1, f"× {units}")
        for _copy in range(copies):
            item = InstalledItem(
                customer_id=invoice.customer_id, product_id=product.id,
                product_name=(line.description or product.name)[:200], source="invoice",
                invoice_id=invoice.id, line_id=line.id, purchased_on=purchased_on,
                warranty_until=warranty_end(purchased_on, product.id), notes=notes)
            db.session.add(item)
            created.append(item)
    db.session.flush()
    return created


def take_back(credit_note) -> int:
    """A credit note that leaves nothing owed on its invoice removes that invoice's items."""
    original = credit_note.original
    if original is None or _sales().credited_total(original.id) < original.total:
        return 0
    items = list(db.session.execute(select(InstalledItem).where(
        InstalledItem.invoice_id == original.id)).scalars())
    corrective = _sales().replaced_by(original)
    replacements = list(db.session.execute(select(InstalledItem).where(
        InstalledItem.invoice_id == corrective.id, InstalledItem.serial == "")
        .order_by(InstalledItem.id)).scalars()) if corrective is not None else []
    from modules.service.models.tickets import Ticket

    for item in items:
        target = next((r for r in replacements if r.product_id == item.product_id), None)
        if target is not None and item.serial:
            replacements.remove(target)
            target.serial = item.serial
        db.session.execute(update(Ticket).where(Ticket.installed_item_id == item.id).values(
            installed_item_id=target.id if target is not None else None))
        db.session.delete(item)
    db.session.flush()
    return len(items)


@module_listener("service")
def on_invoice_posted(sender, invoice=None, **kwargs) -> None:
    """``invoice_posted`` listener: record the installed base while sales is active."""
    from core.modules import is_active

    if invoice is None or not is_active("sales"):
        return
    if invoice.kind == "credit_note":
        take_back(invoice)
    else:
        record_invoice(invoice)


# --- warranty --------------------------------------------------------------------------------

def find_item(customer_id: int, serial: str = "", product_id: int | None = None
              ) -> InstalledItem | None:
    """The customer's item with this serial, else their latest item of this product."""
    stmt = select(InstalledItem).where(InstalledItem.customer_id == customer_id)
    serial = canonical_serial(serial)
    if serial:
        stmt = stmt.where(func.upper(InstalledItem.serial) == serial)
    elif product_id:
        stmt = stmt.where(InstalledItem.product_id == product_id)
    else:
        return None
    stmt = stmt.order_by(InstalledItem.purchased_on.desc().nulls_last(), InstalledItem.id.desc())
    return db.session.execute(stmt.limit(1)).scalar()


def warranty_status(customer_id: int, serial: str = "", item: InstalledItem | None = None,
                    on_day: date | None = None) -> str:
    """"covered", "expired" or "unknown" (no such item, or no warranty end) on ``on_day``."""
    item = item or find_item(customer_id, serial)
    if item is None or item.customer_id != customer_id or item.warranty_until is None:
        return "unknown"
    return "covered" if item.covered_on(on_day or _today()) else "expired"


def _today() -> date:
    from core.database import utcnow

    return local_date(utcnow())


def check_warranty(ticket) -> str | None:
    """For a warranty claim: link the item and set ``warranty_covered`` on the claim's day."""
    if ticket.type != "warranty":
        return None
    item = db.session.get(InstalledItem, ticket.installed_item_id) \
        if ticket.installed_item_id else None
    if item is None or item.customer_id != ticket.customer_id:
        item = find_item(ticket.customer_id, ticket.serial, ticket.product_id)
    ticket.installed_item_id = item.id if item is not None else None
    day = local_date(ticket.created_at) if ticket.created_at else _today()
    status = warranty_status(ticket.customer_id, item=item, on_day=day) if item else "unknown"
    ticket.warranty_covered = {"covered": True, "expired": False}.get(status)
    return status


WATCHED = ("type", "serial", "product_id", "installed_item_id", "customer_id")


def _before_flush(session: Session, flush_context, instances) -> None:
    """Check warranty claims that are new or whose type, serial or item changed."""
    from core.modules import is_active
    from modules.service.models.tickets import Ticket

    tickets = [o for o in session.new if isinstance(o, Ticket)]
    for obj in session.dirty:
        if isinstance(obj, Ticket) and any(
                inspect(obj).attrs[name].history.has_changes() for name in WATCHED):
            tickets.append(obj)
    tickets = [t for t in tickets if t.type == "warranty" and t.customer_id]
    if not tickets:
        return
    with session.no_autoflush:
        if not is_active("service"):
            return
        for ticket in tickets:
            check_warranty(ticket)


def register(app) -> None:
    """Listen to posted invoices, check warranty claims, the panel on the 360 page.

    (Merging customers moves their items: ``modules.service.timeline``.)
    """
    from core.customers.panels import add_panel_provider
    from modules.service.views.assets import customer_panel

    invoice_posted.connect(on_invoice_posted, weak=False)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    add_panel_provider(app, customer_panel, module="service")
