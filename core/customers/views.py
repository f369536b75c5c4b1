"""Customer pages: the list with search and filters, the form, and the customer 360 page."""

from datetime import date, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core.analytics.models import Purchase
from core.analytics.rfm import SEGMENTS
from core.analytics.services import score_for
from core.auth.models import User
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers import services
from core.customers.actions import actions_for
from core.customers.custom_fields import definitions
from core.customers.forms import CustomerForm, NoteForm, customer_form
from core.customers.models import ContactPoint, Customer, Tag, customer_tags
from core.customers.panels import panels_for
from core.customers.saved_views import clean_query, visible_views
from core.customers.search import parse_filters, scores_for, search
from core.customers.timeline import timeline
from core.extensions import db
from core.i18n import current_locale
from core.money import Money
from core.pagination import request_page
from core.ui import link_prefix

bp = Blueprint("customers", __name__, url_prefix="/customers")


def _users() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name, User.email)).scalars())


def list_filters() -> dict:
    """The list filters in the query string (see ``search.parse_filters``); bad ones left out."""
    return parse_filters(request.args, definitions())[0]


def list_query() -> str:
    """The current list's query string without page tokens (for export links, saved views)."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True)
                      if k not in ("after", "before", "size") and v != ""])


def column_choices(fields) -> list[tuple[str, str]]:
    """The optional list columns: segment, priority and every custom field (key, label)."""
    return [("segment", _("Segment")), ("priority", _("Priority"))] + [
        ("custom." + f.name, f.label) for f in fields]


def list_columns(choices, sort: str) -> list[tuple[str, str]]:
    """The optional columns chosen with ``col``, in order; sorting by priority shows priority."""
    chosen = set(request.args.getlist("col"))
    if sort.lstrip("-") == "priority":
        chosen.add("priority")
    return [(key, label) for key, label in choices if key in chosen]


def segment_choices() -> list[tuple[str, str]]:
    """(key, name in the reader's language) of every RFM segment, in grid order."""
    locale = current_locale()
    return [(key, segment.name(locale)) for key, segment in SEGMENTS.items()]


class ListRow(NamedTuple):
    """What one row of the customer list shows, read in a few queries for the whole page."""

    id: int
    url: str
    display_name: str
    kind: str
    mobile: str | None
    email: str | None
    tags: list[str]
    owner: str
    custom: dict[str, Any]
    created_at: datetime


def list_rows(stmt, sort_columns, users: list[User], with_custom: bool):
    """The page of ``stmt`` (a ``search`` statement) and its rows for the list table.

    Only the shown columns are read (no customer objects, no owner user row per customer);
    the first mobile and email and the tag names come in one query each for the page, and
    owners' names from ``users`` (one more query only for owners not among them)."""
    columns = [Customer.id, Customer.kind, Customer.display_name, Customer.owner_id,
               Customer.created_at] + ([Customer.custom] if with_custom else [])
    page = request_page(stmt.with_only_columns(*columns), sort_columns)  # items: tuples
    ids = [row[0] for row in page]
    if not ids:
        return page, []
    contacts: dict[tuple[int, str], str] = {}
    for customer_id, kind, value in db.session.execute(
            select(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.value)
            .where(ContactPoint.customer_id.in_(ids), ContactPoint.kind.in_(("mobile", "email")))
            .order_by(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.primary.desc(),
                      ContactPoint.id)):
        contacts.setdefault((customer_id, kind), value)  # the primary, else the first one
    tags: dict[int, list[str]] = {}
    for customer_id, name in db.session.execute(
            select(customer_tags.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tags.c.tag_id)
            .where(customer_tags.c.customer_id.in_(ids)).order_by(Tag.name)):
        tags.setdefault(customer_id, []).append(name)
    owners = {u.id: u.name or u.email for u in users}
    missing = {row[3] for row in page} - owners.keys() - {None}
    if missing:  # owners who left (inactive users are not in the owner filter)
        owners.update((uid, name or email) for uid, name, email in db.session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(missing))))
    show = link_prefix("customers.show", "customer_id")  # "/customers/"
    rows = [ListRow(cid, f"{show}{cid}", name, kind, contacts.get((cid, "mobile")),
                    contacts.get((cid, "email")), tags.get(cid, []), owners.get(owner_id, "—"),
                    (custom[0] or {}) if custom else {}, created_at)
            for cid, kind, name, owner_id, created_at, *custom in page]
    return page, rows


@bp.route("/")
@require_permission("customers.view")
def index():
    """Customers the user may see: search, filters, sorting, optional columns, saved views."""
    fields = definitions()
    filters, errors = parse_filters(request.args, fields)
    stmt, sort, columns = search(request.args.get("q", ""), filters, request.args.get("sort"))
    choices = column_choices(fields)
    shown = list_columns(choices, sort)
    keys = {key for key, _label in shown}
    users = _users()
    page, rows = list_rows(stmt, columns, users,
                           with_custom=any(key.startswith("custom.") for key in keys))
    scores = scores_for([row.id for row in rows]) if keys & {"segment", "priority"} else {}
    tags = list(db.session.execute(select(Tag).order_by(Tag.name)).scalars())
    query = list_query()
    current = clean_query(query)
    segments = segment_choices()
    return render_template(
        "customers/index.html", page=page, rows=rows, sort=sort, tags=tags, users=users,
        filters=filters, filter_errors=errors, fields=fields, columns=shown, scores=scores,
        column_choices=choices, field_map={"custom." + f.name: f for f in fields}, shown=_shown,
        segments=segments, segment_names=dict(segments), query=query,
        saved_views=visible_views(current_user.id), current_view=current,
        filtered=bool(request.args.get("q") or filters["tag"] or filters["owner"]
                      or filters["kind"] or filters["segment"] or filters["custom"]))


def _form(customer: Customer | None = None) -> CustomerForm:
    form = customer_form(definitions())
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
            field = getattr(form, name.replace("custom.", "custom_"), None)
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
    custom = [(d, _shown(d, customer.custom[d.name])) for d in definitions()
              if (customer.custom or {}).get(d.name) not in (None, "")]
    from core.customers.task_views import open_tasks, task_form

    return render_template("customers/show.html", customer=customer, note_form=NoteForm(),
                           task_form=task_form(), tasks=open_tasks(customer),
                           entries=timeline(customer), custom=custom,
                           affiliations=_visible_affiliations(customer),
                           duplicates=_visible_duplicates(customer),
                           score=score_for(customer.id), segment_names=dict(segment_choices()),
                           purchases=purchase_summary(customer.id),
                           actions=actions_for(customer), panels=panels_for(customer))


def purchase_summary(customer_id: int) -> dict:
    """How many purchases the customer made, their total per currency, and the last one's time."""
    rows = db.session.execute(
        select(Purchase.currency, func.count(), func.sum(Purchase.amount),
               func.max(Purchase.occurred_at))
        .where(Purchase.customer_id == customer_id).group_by(Purchase.currency)
        .order_by(Purchase.currency)).all()
    return {"count": sum(r[1] for r in rows),
            "totals": [Money(int(r[2] or 0), r[0]) for r in rows],
            "last": max((r[3] for r in rows if r[3] is not None), default=None)}


def _shown(definition, value):
    """A stored custom value ready for the template filters (dates as ``date``)."""
    return date.fromisoformat(value) if definition.type == "date" else value


def _visible(ids) -> set[int]:
    """Which of these customer ids the current user may see."""
    if not ids:
        return set()
    stmt = scoped(select(Customer.id).where(Customer.id.in_(ids)), Customer, "customers")
    return set(db.session.execute(stmt).scalars())


def _visible_affiliations(customer: Customer) -> list[tuple]:
    """(role, other customer) pairs of the people/organisations linked to ``customer``."""
    pairs = services.affiliations_of(customer)
    allowed = _visible({other.id for _role, other in pairs})
    return [(role, other) for role, other in pairs if other.id in allowed]


def _visible_duplicates(customer: Customer) -> list[Customer]:
    """Other customers the user may see that share a mobile, email or national code."""
    found = services.find_duplicates_for(  # one query for every value
        mobiles=customer.values("mobile"), emails=customer.values("email"),
        national_code=customer.national_code, exclude_id=customer.id)
    allowed = _visible({c.id for c in found})
    return sorted({c for c in found if c.id in allowed}, key=lambda c: c.id)


@bp.route("/<int:customer_id>/notes", methods=["POST"])
@require_permission("customers.edit")
def add_note(customer_id: int):
    """Add a note to the customer's timeline."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    form = NoteForm()
    if form.validate_on_submit():
        services.add_note(customer, form.body.data, by=current_user, kind=form.kind.data)
        db.session.commit()
        flash(_("Note added."), "success")
    else:
        flash(_("Write something in the note."), "danger")
    return redirect(url_for("customers.show", customer_id=customer.id))
