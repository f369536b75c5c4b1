"""Customer pages: the list with search and filters, the form, and the customer 360 page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.models import User
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers import services
from core.customers.forms import CustomerForm, NoteForm
from core.customers.models import Customer, Tag
from core.customers.search import search
from core.customers.timeline import timeline
from core.extensions import db
from core.pagination import request_page

bp = Blueprint("customers", __name__, url_prefix="/customers")


def _users() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name, User.email)).scalars())


def _int_args(name: str) -> list[int]:
    return [int(v) for v in request.args.getlist(name) if v.isdigit()]


@bp.route("/")
@require_permission("customers.view")
def index():
    """Customers the user may see: search, tag and owner filters, sorting, pages."""
    owner = _int_args("owner")
    filters = {"tag": _int_args("tag"), "owner": owner[0] if owner else None,
               "kind": request.args.get("kind") or None}
    stmt, sort, columns = search(request.args.get("q", ""), filters, request.args.get("sort"))
    page = request_page(stmt, columns)
    tags = list(db.session.execute(select(Tag).order_by(Tag.name)).scalars())
    return render_template("customers/index.html", page=page, sort=sort, tags=tags,
                           users=_users(), filters=filters)


def _form(customer: Customer | None = None) -> CustomerForm:
    form = CustomerForm()
    form.owner_id.choices = [(0, _("Nobody"))] + [(u.id, u.name or u.email) for u in _users()]
    if customer is not None and request.method == "GET":
        form.fill_from(customer)
    elif customer is None and request.method == "GET":
        form.owner_id.data = current_user.id
    return form


def _save(form: CustomerForm, customer: Customer | None):
    """Validate and save through the service; field errors go back onto the form."""
    if not form.validate_on_submit():
        return None
    try:
        if customer is None:
            customer = services.create_customer(by=current_user, **form.service_values())
        else:
            services.update_customer(customer, **form.service_values())
    except services.CustomerError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
        return None
    db.session.commit()
    return customer


@bp.route("/new", methods=["GET", "POST"])
@require_permission("customers.edit")
def new():
    """Add a person or an organisation."""
    form = _form()
    customer = _save(form, None)
    if customer is not None:
        flash(_("Customer %(name)s added.", name=customer.display_name), "success")
        return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=None)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@require_permission("customers.edit")
def edit(customer_id: int):
    """Change a customer's record."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    form = _form(customer)
    if _save(form, customer) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=customer)


@bp.route("/<int:customer_id>")
@require_permission("customers.view")
def show(customer_id: int):
    """The customer 360 page: profile, contact points and the timeline of every module."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    return render_template("customers/show.html", customer=customer, note_form=NoteForm(),
                           entries=timeline(customer))


@bp.route("/<int:customer_id>/notes", methods=["POST"])
@require_permission("customers.edit")
def add_note(customer_id: int):
    """Add a note to the customer's timeline."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    form = NoteForm()
    if form.validate_on_submit():
        services.add_note(customer, form.body.data, by=current_user)
        db.session.commit()
        flash(_("Note added."), "success")
    else:
        flash(_("Write something in the note."), "danger")
    return redirect(url_for("customers.show", customer_id=customer.id))
