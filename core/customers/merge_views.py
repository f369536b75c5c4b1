"""Pages for duplicates, the merge wizard and anonymisation (permission ``customers.merge``)."""

from datetime import date

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from core.auth.models import Team, User
from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers import anonymise, duplicates, merge
from core.customers.models import Customer, Note, Task
from core.customers.search import text_condition
from core.customers.views import bp
from core.extensions import db
from core.i18n import to_latin_digits
from core.pagination import Page

PAGE_SIZE = 50
REASONS = {"mobile": _l("Same mobile"), "email": _l("Same email"),
           "national_code": _l("Same national code"), "national_id": _l("Same national id"),
           "name": _l("Similar name in the same city")}


@bp.route("/duplicates")
@require_permission("customers.merge")
def duplicates_page():
    """Pairs of customers that look like one, with the reason, each a link to the wizard."""
    reason = request.args.get("reason") or None
    pairs = duplicates.find_pairs([reason] if reason in REASONS else None)
    after = request.args.get("after") or ""
    if after:
        pairs = [p for p in pairs if _key_after(p, after)]
    shown = pairs[:PAGE_SIZE]
    page = Page(items=shown, has_next=len(pairs) > PAGE_SIZE, has_prev=bool(after),
                next_token=shown[-1].key if len(pairs) > PAGE_SIZE else None)
    ids = {i for p in shown for i in (p.first_id, p.second_id)}
    customers = {c.id: c for c in db.session.execute(
        select(Customer).where(Customer.id.in_(ids))).unique().scalars()} if ids else {}
    return render_template("customers/duplicates.html", page=page, customers=customers,
                           reasons=REASONS, reason=reason)


def _key_after(pair: duplicates.Pair, after: str) -> bool:
    first, _dash, second = after.partition("-")
    if not (first.isdigit() and second.isdigit()):
        return True
    return (pair.first_id, pair.second_id) > (int(first), int(second))


def _find_one(text: str) -> tuple[Customer | None, str | None]:
    """A visible customer by number, mobile, email or national code, or a reason why not."""
    text = to_latin_digits((text or "").strip()).lstrip("#")
    if not text:
        return None, _("Name both customers.")
    if text.isdigit() and len(text) < 10:
        stmt = select(Customer).where(Customer.id == int(text))
    else:
        stmt = select(Customer).where(text_condition(text))
    stmt = scoped(stmt, Customer, "customers").where(Customer.anonymised_at.is_(None))
    found = list(db.session.execute(stmt.limit(2)).unique().scalars())
    if not found:
        return None, _("No customer found for “%(text)s”.", text=text)
    if len(found) > 1:
        return None, _("Several customers match “%(text)s”; use the customer number.",
                       text=text)
    return found[0], None


def _counts(ids: list[int]) -> dict[int, dict[str, int]]:
    from core.analytics.models import Purchase

    counts = {i: {} for i in ids}
    for name, model in (("notes", Note), ("tasks", Task), ("purchases", Purchase)):
        for customer_id, n in db.session.execute(
                select(model.customer_id, func.count()).where(model.customer_id.in_(ids))
                .group_by(model.customer_id)):
            counts[customer_id][name] = n
    return counts


def _rows(a: Customer, b: Customer) -> list[dict]:
    """The differing fields, with values ready for the template and the default choice."""
    rows = []
    for field, value_a, value_b in merge.differences(a, b):
        if field.kind == "custom_date":
            value_a, value_b = (date.fromisoformat(v) if v else v for v in (value_a, value_b))
        rows.append({"field": field, "a": value_a, "b": value_b,
                     "default": merge.default_source(field, a, b).id})
    return rows


@bp.route("/merge", methods=["GET", "POST"])
@require_permission("customers.merge")
def merge_wizard():
    """Choose two customers, compare them side by side, pick values, merge."""
    values = request.form if request.method == "POST" else request.args
    if not (values.get("a") and values.get("b")):
        return render_template("customers/merge_pick.html", a=values.get("a", ""),
                               b=values.get("b", ""), error=None)
    (a, error_a), (b, error_b) = _find_one(values["a"]), _find_one(values["b"])
    if a is None or b is None:
        return render_template("customers/merge_pick.html", a=values["a"], b=values["b"],
                               error=error_a or error_b), 404
    try:
        merge.check_mergeable(a, b)
    except merge.MergeError as exc:
        return render_template("customers/merge_pick.html", a=values["a"], b=values["b"],
                               error=str(exc)), 422
    if request.method == "POST":
        return _merge(a, b)
    users = {u.id: u for u in db.session.execute(select(User)).scalars()}
    teams = {t.id: t for t in db.session.execute(select(Team)).scalars()}
    return render_template("customers/merge.html", a=a, b=b, rows=_rows(a, b),
                           counts=_counts([a.id, b.id]), users=users, teams=teams)


def _merge(a: Customer, b: Customer):
    survivor, loser = (b, a) if request.form.get("survivor") == str(b.id) else (a, b)
    keep = {}
    for field, _va, _vb in merge.differences(a, b):
        chosen = request.form.get("keep-" + field.name, "")
        if chosen.isdigit():
            keep[field.name] = int(chosen)
    loser_id, loser_name = loser.id, loser.display_name
    try:
        merge.merge_customers(survivor, loser, keep, by=current_user)
    except merge.MergeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("customers.merge_wizard", a=a.id, b=b.id))
    db.session.commit()
    flash(_("Merged: everything of %(name)s (customer %(number)d) now belongs here.",
            name=loser_name, number=loser_id), "success")
    return redirect(url_for("customers.show", customer_id=survivor.id))


@bp.route("/<int:customer_id>/anonymise", methods=["GET", "POST"])
@require_permission("customers.merge")
def anonymise_customer(customer_id: int):
    """Say what anonymising does; on confirmation remove the customer's personal data."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    if customer.anonymised_at is not None:
        flash(_("This customer has already been anonymised."), "info")
        return redirect(url_for("customers.show", customer_id=customer.id))
    if request.method == "POST":
        try:
            anonymise.anonymise_customer(customer, by=current_user)
        except anonymise.AnonymiseError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("customers.anonymise_customer", customer_id=customer_id))
        db.session.commit()
        flash(_("The customer's personal data has been removed."), "success")
        return redirect(url_for("customers.show", customer_id=customer_id))
    return render_template("customers/anonymise.html", customer=customer,
                           placeholder=anonymise.placeholder_name(customer.id))


@bp.errorhandler(404)
def merged_away(error: NotFound):
    """A merged-away customer's pages open the survivor's; anything else is a plain 404."""
    customer_id = (request.view_args or {}).get("customer_id")
    if request.method == "GET" and customer_id and has_permission("customers.view"):
        survivor = merge.survivor_of(customer_id)
        if survivor is not None and db.session.execute(scoped(
                select(Customer.id).where(Customer.id == survivor), Customer,
                "customers")).scalar() is not None:
            args = {**request.view_args, "customer_id": survivor, **request.args.to_dict()}
            return redirect(url_for(request.endpoint, **args))
    handler = current_app.error_handler_spec[None][404].get(NotFound)
    return handler(error) if handler else error


def init_app(app: Flask) -> None:
    """Timeline entries for merges and anonymisation; the duplicates page in the menu."""
    from core.customers.timeline import add_provider
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    add_provider(app, merge.merge_entries)
    add_provider(app, anonymise.anonymised_entries)
    add_core_menu(app, MenuEntry("customers.duplicates_page", _l("Duplicate customers"),
                                 icon="people", permission="customers.merge"))
