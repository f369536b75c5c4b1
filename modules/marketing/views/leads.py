"""Marketing pages: the lead list, a lead's page, edit, conversion and CSV import."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.models import User
from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404
from core.extensions import db
from core.modules import is_active
from core.pagination import request_page, sort_columns
from modules.marketing import leads as services
from modules.marketing.leads_api import read_filters, visible_leads
from modules.marketing.models.leads import Lead
from modules.marketing.views import (
    bp,
    lead_rules,  # noqa: F401 - its routes
)
from modules.marketing.views.lead_wtforms import ConvertForm, ImportForm, LeadEditForm

SORTS = {"score": Lead.score, "created": Lead.created_at, "name": Lead.name}


def active_users() -> list[User]:
    """Active staff, by name, for owner pickers."""
    return list(db.session.execute(select(User).where(User.active.is_(True))
                                   .order_by(User.name, User.email)).scalars())


def _labels() -> dict:
    return {"status": {k: str(v) for k, v in services.STATUS_LABELS.items()},
            "source": {k: str(v) for k, v in services.SOURCE_LABELS.items()},
            "kind": {k: str(v) for k, v in services.ACTIVITY_LABELS.items()}}


@bp.route("/leads")
@require_permission("marketing.view")
def leads():
    """Leads the user may see: search, filters (status, source, owner, score), pages."""
    filters = read_filters(request.args)
    sort, columns = sort_columns(request.args.get("sort"), SORTS, "-score", Lead.id)
    page = request_page(visible_leads(filters, current_user.id), columns)
    users = active_users()
    return render_template("marketing/leads.html", page=page, sort=sort, filters=filters,
                           users=users, users_by_id={u.id: u for u in users},
                           labels=_labels(), filtered=any(v is not None and v != ""
                                                          for v in filters.values()))


@bp.route("/leads/<int:lead_id>")
@require_permission("marketing.view")
def lead_show(lead_id: int):
    """A lead: details, score, where they came from, and everything that happened."""
    lead = get_scoped_or_404(Lead, lead_id, "marketing")
    owner = db.session.get(User, lead.owner_id) if lead.owner_id else None
    return render_template("marketing/lead_show.html", lead=lead, owner=owner,
                           labels=_labels(), convert_form=ConvertForm(),
                           sales_active=is_active("sales"),
                           can_work=has_permission("marketing.work"),
                           activities=list(reversed(lead.activities)))


def _edit_form(lead: Lead) -> LeadEditForm:
    form = LeadEditForm(obj=lead)
    form.owner_id.choices = [(0, _("Nobody yet"))] + [(u.id, u.name or u.email)
                                                      for u in active_users()]
    if request.method == "GET":
        form.owner_id.data = lead.owner_id or 0
        if lead.mobile:
            form.mobile.data = "0" + lead.mobile[3:]
    return form


@bp.route("/leads/<int:lead_id>/edit", methods=["GET", "POST"])
@require_permission("marketing.work")
def lead_edit(lead_id: int):
    """Change a lead's details, status, owner and consent."""
    lead = get_scoped_or_404(Lead, lead_id, "marketing")
    form = _edit_form(lead)
    if form.validate_on_submit():
        try:
            mobile, email = services.clean_contacts({"mobile": form.mobile.data,
                                                     "email": form.email.data})
        except services.LeadError as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
        else:
            for name in ("name", "company", "job_title", "city", "notes"):
                setattr(lead, name, (getattr(form, name).data or "").strip())
            lead.mobile, lead.email = mobile, email
            lead.consent_email, lead.consent_sms = form.consent_email.data, form.consent_sms.data
            if lead.status != "converted":
                services.set_status(lead, form.status.data, by=current_user)
            owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
            lead.owner_id, lead.team_id = (owner.id, owner.team_id) if owner else (None, None)
            lead.search_key = services.search_key(lead)
            services.rescore(lead)
            db.session.commit()
            flash(_("Lead saved."), "success")
            return redirect(url_for("marketing.lead_show", lead_id=lead.id))
    return render_template("marketing/lead_form.html", form=form, lead=lead)


@bp.route("/leads/new", methods=["GET", "POST"])
@require_permission("marketing.work")
def lead_new():
    """Add a lead by hand (one with the same mobile or email is updated instead)."""
    form = _edit_form(Lead())
    if form.validate_on_submit():
        values = {f: getattr(form, f).data for f in ("name", "mobile", "email", "company",
                                                     "job_title", "city", "notes",
                                                     "consent_email", "consent_sms")}
        owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
        if owner:
            values.update(owner_id=owner.id, team_id=owner.team_id)
        try:
            lead, _created = services.create_or_update_lead(values, "manual", by=current_user)
        except services.LeadError as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
        else:
            if lead.owner_id is None and lead.team_id is None:  # else "own" scope hides it
                lead.owner_id, lead.team_id = current_user.id, current_user.team_id
            db.session.commit()
            flash(_("Lead saved."), "success")
            return redirect(url_for("marketing.lead_show", lead_id=lead.id))
    return render_template("marketing/lead_form.html", form=form, lead=None)


@bp.route("/leads/<int:lead_id>/convert", methods=["POST"])
@require_permission("marketing.work")
def lead_convert(lead_id: int):
    """Make the lead a customer (optionally opening a deal) and go to the customer."""
    lead = get_scoped_or_404(Lead, lead_id, "marketing")
    form = ConvertForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; try again."), "danger")
        return redirect(url_for("marketing.lead_show", lead_id=lead.id))
    try:
        customer = services.convert(lead, by=current_user,
                                    create_deal=bool(form.create_deal.data))
    except services.LeadError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
        return redirect(url_for("marketing.lead_show", lead_id=lead.id))
    db.session.commit()
    flash(_("The lead is now a customer."), "success")
    return redirect(url_for("customers.show", customer_id=customer.id))


@bp.route("/leads/import", methods=["GET", "POST"])
@require_permission("marketing.work")
def leads_import():
    """Import leads from a CSV file whose first line names the columns."""
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = [_("Save the file as UTF-8 CSV and try again.")]
        else:
            result = services.import_leads(text, by=current_user)
            db.session.commit()
    return render_template("marketing/leads_import.html", form=form, result=result)
