"""Service pages: the ticket list, a new ticket, the ticket page and its actions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from core.auth.models import Team, User
from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404
from core.customers.models import Customer
from core.customers.search import customer_choices, visible_customer
from core.extensions import db
from core.pagination import request_page
from core.ui import row_urls
from modules.service import attachments, ticket_list
from modules.service import tickets as services
from modules.service.models.tickets import Attachment, Category, Ticket
from modules.service.views import (
    bp,
    ticket_categories,  # noqa: F401 - its routes
)
from modules.service.views.ticket_forms import ChangeForm, MergeForm, ReplyForm, TicketForm

LABELS = {"type": services.TYPE_LABELS, "priority": services.PRIORITY_LABELS,
          "status": services.STATUS_LABELS, "channel": services.CHANNEL_LABELS,
          "sla": ticket_list.SLA_LABELS, "status_class": ticket_list.STATUS_CLASSES,
          "sla_class": ticket_list.SLA_CLASSES}


def _plain_labels() -> dict:
    """The label dicts with translated strings (lazy strings cost a lookup per use)."""
    return {name: {k: str(v) for k, v in values.items()} for name, values in LABELS.items()}


def active_users() -> list:
    """Active staff (rows of id, name, email), by name, for the assignee pickers."""
    return list(db.session.execute(select(User.id, User.name, User.email)
                                   .where(User.active.is_(True))
                                   .order_by(User.name, User.email)))


def teams() -> list:
    """Teams (rows of id, name), by name."""
    return list(db.session.execute(select(Team.id, Team.name).order_by(Team.name)))


def categories(active_only: bool = True) -> list:
    """Ticket categories (rows of id, name), in their order."""
    stmt = select(Category.id, Category.name).order_by(Category.position, Category.name)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return list(db.session.execute(stmt))


def ticket_urls(ids) -> dict[int, str]:
    """The page link of each ticket id (the route is built once, not once per row)."""
    return row_urls("service.ticket_show", "ticket_id", ids)


@bp.route("/tickets")
@require_permission("service.view")
def tickets():
    """Tickets the user may see: search, filters, sorting, keyset pages."""
    filters = ticket_list.read_filters(request.args)
    stmt, sort, columns = ticket_list.search(filters, request.args.get("sort"), current_user.id)
    # Each row: the ticket and its customer's name (the list shows no category).
    stmt = (stmt.outerjoin(Customer, Customer.id == Ticket.customer_id)
            .add_columns(Customer.display_name).options(lazyload(Ticket.category)))
    page = request_page(stmt, columns)
    users = active_users()
    return render_template("service/tickets.html", page=page, sort=sort, filters=filters,
                           users=users, teams=teams(),
                           categories=categories(False), labels=_plain_labels(),
                           sla_states=ticket_list.SLA_STATES,
                           owners={u.id: u.name or u.email for u in users},
                           urls=ticket_urls(ticket.id for ticket, _name in page),
                           filtered=any(v for v in filters.values()))


@bp.route("/tickets/customer-options")
@require_permission("service.view")
def ticket_customer_options():
    """<option>s of the customers the user may see that match ``customer_q``."""
    query = request.args.get("customer_q", "")
    return render_template("service/_customer_options.html", customers=customer_choices(query),
                           query=query)


def uploaded_files(field) -> list[tuple[str, bytes]]:
    """The files sent in a form, checked by content; errors go on ``field``."""
    files = []
    for storage in request.files.getlist(field.name):
        if not storage or not storage.filename:
            continue
        data = storage.read()
        try:
            attachments.check_file(attachments.safe_filename(storage.filename), data)
        except services.TicketError as exc:
            field.errors = [*field.errors, str(exc)]
        files.append((storage.filename, data))
    return files


def _product(text: str) -> dict:
    """A catalogue code (when sales is active) becomes that product; other text stays a name."""
    from core.modules import is_active

    text = text.strip()
    if text and is_active("sales"):
        from modules.sales.services import product_by_code

        product = product_by_code(text)
        if product is not None:
            return {"product_id": product.id, "product_name": product.name}
    return {"product_name": text}


def _new_form() -> TicketForm:
    form = TicketForm()
    form.category_id.choices = [(0, _("No category"))] + [(c.id, c.name)
                                                          for c in categories()]
    customer = visible_customer(request.args.get("customer", type=int))
    if request.method == "POST":
        customer = visible_customer(form.customer_id.data) or customer
    form.customer_id.choices = [(customer.id, customer.display_name)] if customer else []
    if request.method == "GET" and customer:
        form.customer_id.data = customer.id
        form.serial.data = request.args.get("serial", "")
    return form


@bp.route("/tickets/new", methods=["GET", "POST"])
@require_permission("service.work")
def ticket_new():
    """Open a ticket for a customer (by phone, in person...), with optional files."""
    form = _new_form()
    if form.validate_on_submit():
        customer = visible_customer(form.customer_id.data)
        files = uploaded_files(form.files)
        if customer is None:
            form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
        elif not form.files.errors:
            try:
                ticket = services.create_ticket(
                    customer=customer, subject=form.subject.data, body=form.body.data or "",
                    type=form.type.data, priority=form.priority.data,
                    channel=form.channel.data, by=current_user,
                    category=db.session.get(Category, form.category_id.data or 0),
                    serial=form.serial.data or "", **_product(form.product_name.data or ""))
                ticket_list.keep_visible(ticket, current_user)
                first = ticket.messages[0] if ticket.messages else None
                for name, data in files:
                    attachments.save_attachment(ticket, name, data, message=first)
            except services.TicketError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Ticket %(ref)s opened.", ref=ticket.reference), "success")
                return redirect(url_for("service.ticket_show", ticket_id=ticket.id))
    return render_template("service/ticket_form.html", form=form)


def _change_form(ticket: Ticket, users: list | None = None) -> ChangeForm:
    """The change form; ``users`` are the active staff when the caller has them already."""
    form = ChangeForm(data={"status": ticket.status, "priority": ticket.priority,
                            "owner_id": ticket.owner_id or 0, "team_id": ticket.team_id or 0})
    form.owner_id.choices = [(0, _("Nobody"))] + [(u.id, u.name or u.email)
                                                  for u in (active_users() if users is None
                                                            else users)]
    form.team_id.choices = [(0, _("No team"))] + [(t.id, t.name) for t in teams()]
    return form


@bp.route("/tickets/<int:ticket_id>")
@require_permission("service.view")
def ticket_show(ticket_id: int):
    """A ticket: the conversation, files, changes, merging, and its history."""
    ticket = get_scoped_or_404(Ticket, ticket_id, "service")
    customer = visible_customer(ticket.customer_id)
    customer_visible = customer is not None
    if customer is None:  # still named on the page, without a link
        customer = db.session.get(Customer, ticket.customer_id)
    files: dict[int | None, list[Attachment]] = {}  # by message; None: not on a message
    for attachment in db.session.execute(select(Attachment).where(
            Attachment.ticket_id == ticket.id).order_by(Attachment.id)).scalars():
        files.setdefault(attachment.message_id, []).append(attachment)
    staff = db.session.execute(select(User.id, User.name, User.email, User.active)
                               .order_by(User.name, User.email)).all()
    merged_into = db.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
    can_work = has_permission("service.work") and not ticket.merged_into_id
    return render_template(
        "service/ticket_show.html", ticket=ticket, customer=customer, can_work=can_work,
        reply_form=_reply_form(ticket) if can_work else None,
        change_form=_change_form(ticket, [u for u in staff if u.active]) if can_work else None,
        merge_form=MergeForm() if can_work else None,
        files=files, loose=files.get(None, []), users={u.id: u for u in staff},
        labels=_plain_labels(), merged_into=merged_into, customer_visible=customer_visible)


def _reply_form(ticket: Ticket) -> ReplyForm:
    """The reply form to show; on a closed ticket it offers (and preselects) only the internal
    note, the one kind ``add_message`` still accepts there."""
    form = ReplyForm()
    if ticket.status == "closed":
        form.kind.choices = [(value, label) for value, label in form.kind.choices
                             if value == "internal"]
        form.kind.data = "internal"
    return form


def _back(ticket: Ticket):
    return redirect(url_for("service.ticket_show", ticket_id=ticket.id))


def _refused(exc: Exception):
    db.session.rollback()
    flash(str(exc), "danger")


@bp.route("/tickets/<int:ticket_id>/reply", methods=["POST"])
@require_permission("service.work")
def ticket_reply(ticket_id: int):
    """A public reply to the customer or an internal note, with files."""
    ticket = get_scoped_or_404(Ticket, ticket_id, "service")
    form = ReplyForm()  # a public reply to a closed ticket is refused by add_message
    if not form.validate_on_submit():
        flash(_("Write the message."), "danger")
        return _back(ticket)
    files = uploaded_files(form.files)
    if form.files.errors:
        flash(" ".join(form.files.errors), "danger")
        return _back(ticket)
    try:
        message = services.add_message(ticket, form.kind.data, form.body.data, by=current_user)
        for name, data in files:
            attachments.save_attachment(ticket, name, data, message=message)
    except services.TicketError as exc:
        _refused(exc)
    else:
        db.session.commit()
        flash(_("Reply sent.") if form.kind.data == "public" else _("Note added."), "success")
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/change", methods=["POST"])
@require_permission("service.work")
def ticket_change(ticket_id: int):
    """Change status, priority, assignee and team."""
    ticket = get_scoped_or_404(Ticket, ticket_id, "service")
    form = _change_form(ticket)
    if not form.validate_on_submit():
        flash(" ".join(e for f in form for e in f.errors), "danger")
        return _back(ticket)
    try:
        services.set_priority(ticket, form.priority.data, by=current_user)
        owner, team = form.owner_id.data or None, form.team_id.data or None
        if owner != ticket.owner_id or team != ticket.team_id:
            services.assign(ticket, user=owner, team=team, clear_team=team is None,
                            by=current_user)
        services.change_status(ticket, form.status.data, by=current_user)
    except services.TicketError as exc:
        _refused(exc)
    else:
        db.session.commit()
        flash(_("Changes saved."), "success")
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/merge", methods=["POST"])
@require_permission("service.work")
def ticket_merge(ticket_id: int):
    """Merge this duplicate into another ticket of the same customer."""
    ticket = get_scoped_or_404(Ticket, ticket_id, "service")
    form = MergeForm()
    match = ticket_list._REFERENCE.fullmatch(
        ticket_list.to_latin_digits((form.into.data or "").strip())) \
        if form.validate_on_submit() else None
    survivor = None
    if match:
        survivor = db.session.execute(ticket_list.visible_tickets().where(
            Ticket.id == int(match[1]))).scalar()
    if survivor is None:
        flash(_("No ticket you can see has that reference."), "danger")
        return _back(ticket)
    try:
        services.merge_tickets(ticket, survivor, by=current_user)
    except services.TicketError as exc:
        _refused(exc)
        return _back(ticket)
    db.session.commit()
    flash(_("Ticket %(ref)s was merged into %(into)s.", ref=ticket.reference,
            into=survivor.reference), "success")
    return _back(survivor)


@bp.route("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@require_permission("service.view")
def ticket_attachment(ticket_id: int, attachment_id: int):
    """Download one file of a ticket the user may see."""
    ticket = get_scoped_or_404(Ticket, ticket_id, "service")
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    return attachments.download_response(attachment)



@bp.context_processor
def _service_nav() -> dict:
    """``service_has(endpoint)``: the nav shows tabs whose pages exist in this deployment."""
    from flask import current_app

    return {"service_has": lambda endpoint: endpoint in current_app.view_functions}
