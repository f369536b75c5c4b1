"""The customer portal's sales pages: the customer's quotes and invoices, with their PDFs.

Only the signed-in portal customer's documents, and only those the company has issued to
them: quotes once sent (not drafts or ones awaiting approval), invoices once posted.
Another customer's document, or a draft, answers 404.
"""

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.pagination import request_page
from core.portal import add_portal_page, current_customer, portal_required
from modules.sales import pdf
from modules.sales.invoices import title as invoice_title
from modules.sales.models.documents import Invoice, Quote
from modules.sales.quotes import status_label

bp = Blueprint("sales_portal", __name__, url_prefix="/portal/sales",
               template_folder="templates")
ISSUED_QUOTES = ("sent", "accepted", "rejected")


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


def _own(model, document_id: int, *conditions):
    document = db.session.execute(select(model).where(
        model.id == document_id, model.customer_id == current_customer().id, *conditions)
    ).scalar()
    if document is None:
        abort(404)
    return document


@bp.route("/quotes")
@portal_required
def quotes():
    """The customer's quotes, newest first."""
    stmt = select(Quote).where(Quote.customer_id == current_customer().id,
                               Quote.status.in_(ISSUED_QUOTES))
    status = request.args.get("status", "")
    if status in ISSUED_QUOTES:
        stmt = stmt.where(Quote.status == status)
    page = request_page(stmt, [Quote.created_at.desc(), Quote.id.desc()], size=20)
    return render_template("sales/portal_quotes.html", page=page, status=status,
                           statuses=ISSUED_QUOTES, status_label=status_label)


@bp.route("/quotes/<int:quote_id>/pdf")
@portal_required
def quote_pdf(quote_id: int):
    """The quote's current version as a PDF."""
    quote = _own(Quote, quote_id, Quote.status.in_(ISSUED_QUOTES))
    return _pdf(pdf.quote_pdf(quote), pdf.filename(quote))


@bp.route("/invoices")
@portal_required
def invoices():
    """The customer's posted invoices and credit notes, newest first."""
    stmt = select(Invoice).where(Invoice.customer_id == current_customer().id,
                                 Invoice.status == "posted")
    kind = request.args.get("kind", "")
    if kind in ("invoice", "credit_note"):
        stmt = stmt.where(Invoice.kind == kind)
    page = request_page(stmt, [Invoice.posted_at.desc(), Invoice.id.desc()], size=20)
    return render_template("sales/portal_invoices.html", page=page, kind=kind,
                           title=invoice_title)


@bp.route("/invoices/<int:invoice_id>/pdf")
@portal_required
def invoice_pdf(invoice_id: int):
    """A posted invoice (or credit note) as a PDF."""
    invoice = _own(Invoice, invoice_id, Invoice.status == "posted")
    return _pdf(pdf.invoice_pdf(invoice), pdf.filename(invoice))


def register(app) -> None:
    """Add the quotes and invoices pages to the customer portal."""
    app.register_blueprint(bp)
    add_portal_page(app, "sales_portal.quotes", _l("My quotes"), icon="file-earmark-text",
                    position=30)
    add_portal_page(app, "sales_portal.invoices", _l("My invoices"), icon="receipt",
                    position=40)
