"""The customer portal's service pages: my tickets, open one, follow and answer it.

Everything is filtered by the signed-in portal customer (``core.portal.current_customer``);
another customer's ticket answers 404, and internal notes never leave the service desk.
The knowledge base pages are in ``portal_kb``.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import local_date, normalize
from core.pagination import request_page
from core.portal import add_portal_page, current_customer, portal_required
from modules.service.kb import like_pattern
from modules.service.models.assets import InstalledItem
from modules.service.models.surveys import SurveyResponse
from modules.service.models.tickets import DONE, Attachment, Message, Ticket
from modules.service.portal_forms import PortalReplyForm, PortalTicketForm
from modules.service.tickets import (
    STATUS_LABELS,
    TYPE_LABELS,
    TicketError,
    add_message,
    create_ticket,
)

bp = Blueprint("service_portal", __name__, url_prefix="/portal/service",
               template_folder="templates")
VISIBLE = ("public", "customer")  # message kinds a customer sees; never "internal"


def _own_ticket(ticket_id: int) -> Ticket:
    """The signed-in customer's ticket, or 404 (another customer's ticket does not exist)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer_id != current_customer().id:
        abort(404)
    return ticket


def _items(customer_id: int) -> list[InstalledItem]:
    return list(db.session.execute(
        select(InstalledItem).where(InstalledItem.customer_id == customer_id)
        .order_by(InstalledItem.product_name, InstalledItem.id)).scalars())


def _item_label(item: InstalledItem) -> str:
    return f"{item.product_name} — {item.serial}" if item.serial else item.product_name


def _save_files(ticket: Ticket, message: Message | None, files) -> None:
    from modules.service.attachments import save_attachment

    for storage in files or ():
        if storage and storage.filename:
            save_attachment(ticket, storage.filename, storage.read(), message=message)


@bp.route("/tickets")
@portal_required
def tickets():
    """The customer's tickets, newest first, with search and an open/closed filter."""
    stmt = select(Ticket).where(Ticket.customer_id == current_customer().id)
    query = (request.args.get("q") or "").strip()
    for word in normalize(query).split():
        stmt = stmt.where(Ticket.search_key.like(like_pattern(word), escape="\\"))
    state = request.args.get("state", "")
    if state == "open":
        stmt = stmt.where(Ticket.status.not_in(DONE))
    elif state == "closed":
        stmt = stmt.where(Ticket.status.in_(DONE))
    page = request_page(stmt, [Ticket.created_at.desc(), Ticket.id.desc()], size=20)
    return render_template("service/portal_tickets.html", page=page, q=query, state=state,
                           status_labels=STATUS_LABELS, type_labels=TYPE_LABELS)


@bp.route("/tickets/new", methods=["GET", "POST"])
@portal_required
def new_ticket():
    """Open a ticket; public help articles are suggested while the subject is typed."""
    customer = current_customer()
    items = {i.id: i for i in _items(customer.id)}
    form = PortalTicketForm()
    form.item_id.choices = [(0, _("Not about a particular product"))] + [
        (i.id, _item_label(i)) for i in items.values()]
    if form.validate_on_submit():
        item = items.get(form.item_id.data)
        try:
            ticket = create_ticket(
                customer=customer, subject=form.subject.data, body=form.body.data,
                type=form.type.data, channel="portal",
                product_id=item.product_id if item else None,
                product_name=item.product_name if item else "",
                serial=item.serial if item else "")
            if item is not None:
                ticket.installed_item_id = item.id
                if ticket.type == "warranty":
                    ticket.warranty_covered = item.covered_on(local_date(ticket.created_at))
            first = db.session.execute(select(Message).where(
                Message.ticket_id == ticket.id)).scalars().first()
            _save_files(ticket, first, form.files.data)
        except TicketError as exc:
            db.session.rollback()
            form.files.errors = [*form.files.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Your ticket %(ref)s was opened. We will answer you soon.",
                    ref=ticket.reference), "success")
            return redirect(url_for("service_portal.ticket", ticket_id=ticket.id))
    return render_template("service/portal_ticket_form.html", form=form, has_items=bool(items))


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@portal_required
def ticket(ticket_id: int):
    """One ticket: the conversation (without internal notes) and a reply form."""
    ticket = _own_ticket(ticket_id)
    form = PortalReplyForm()
    if form.validate_on_submit():
        try:
            message = add_message(ticket, "customer", form.body.data, channel="portal")
            _save_files(ticket, message, form.files.data)
        except TicketError as exc:
            db.session.rollback()
            form.body.errors = [*form.body.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Your reply was sent."), "success")
            return redirect(url_for("service_portal.ticket", ticket_id=ticket.id))
    messages = [m for m in ticket.messages if m.kind in VISIBLE]
    merged_into = db.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
    if merged_into is not None and merged_into.customer_id != ticket.customer_id:
        merged_into = None
    return render_template("service/portal_ticket.html", ticket=ticket, messages=messages,
                           form=form, merged_into=merged_into, survey=_survey(ticket),
                           status_labels=STATUS_LABELS, type_labels=TYPE_LABELS)


@bp.route("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@portal_required
def attachment(ticket_id: int, attachment_id: int):
    """Download a file of the conversation (never one on an internal note)."""
    from modules.service.attachments import download_response

    ticket = _own_ticket(ticket_id)
    found = db.session.get(Attachment, attachment_id)
    if (found is None or found.ticket_id != ticket.id or found.message is None
            or found.message.kind not in VISIBLE):
        abort(404)
    return download_response(found)


def _survey(ticket: Ticket) -> SurveyResponse | None:
    """The satisfaction request sent when the ticket closed (its link went by SMS or email)."""
    return db.session.execute(select(SurveyResponse).where(
        SurveyResponse.ticket_id == ticket.id, SurveyResponse.kind == "csat")).scalar()


def register(app) -> None:
    """Add the service pages (tickets, knowledge base) to the customer portal."""
    from modules.service import portal_kb  # noqa: F401 - adds the knowledge base routes to bp

    app.register_blueprint(bp)
    add_portal_page(app, "service_portal.tickets", _l("My tickets"), icon="headset",
                    position=10, also=("service_portal.new_ticket", "service_portal.ticket"))
    add_portal_page(app, "service_portal.kb", _l("Help articles"), icon="book", position=20,
                    also=("service_portal.kb_article",))
