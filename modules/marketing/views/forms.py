"""Marketing pages: lead capture forms (builder, hosted page link, embed snippet)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.extensions import db
from core.pagination import request_page
from modules.marketing import lead_forms
from modules.marketing.models.forms import FIELDS, LeadForm
from modules.marketing.views import bp
from modules.marketing.views.lead_wtforms import LeadCaptureForm

DEFAULT_FIELDS = [{"name": "name", "required": True}, {"name": "mobile", "required": True},
                  {"name": "email", "required": False}]


@bp.route("/forms")
@require_permission("marketing.view")
def forms():
    """Lead capture forms with their submission counts."""
    stmt = select(LeadForm)
    q = (request.args.get("q") or "").strip()
    if q:
        stmt = stmt.where(LeadForm.name.contains(q))
    page = request_page(stmt, [LeadForm.created_at.desc(), LeadForm.id.desc()])
    return render_template("marketing/forms.html", page=page, q=q)


def _chosen_fields() -> list[dict]:
    """The fields ticked in the builder, in the standard order, with their required flags."""
    return [{"name": name, "required": bool(request.form.get(f"required_{name}"))}
            for name in FIELDS if request.form.get(f"field_{name}")]


def _edit(form_row: LeadForm | None):
    wtf = LeadCaptureForm(obj=form_row)
    chosen = form_row.fields if form_row else DEFAULT_FIELDS
    errors: dict[str, str] = {}
    if wtf.validate_on_submit():
        chosen = _chosen_fields()
        values = {k: getattr(wtf, k).data for k in (
            "name", "title", "intro", "consent_text", "thanks_message", "allowed_origins",
            "active")}
        try:
            saved = lead_forms.save_form(form_row, fields=chosen, **values)
        except lead_forms.FormError as exc:
            db.session.rollback()
            errors = exc.errors
            for name, message in errors.items():
                if hasattr(wtf, name):
                    getattr(wtf, name).errors = [message]
        else:
            db.session.commit()
            flash(_("Form saved."), "success")
            return redirect(url_for("marketing.form_edit", form_id=saved.id))
    return render_template("marketing/form_edit.html", form=wtf, row=form_row,
                           chosen={f["name"]: f for f in chosen}, all_fields=FIELDS,
                           labels={k: str(v) for k, v in lead_forms.FIELD_LABELS.items()},
                           fields_error=errors.get("fields"))


@bp.route("/forms/new", methods=["GET", "POST"])
@require_permission("marketing.manage")
def form_new():
    """Build a new lead capture form."""
    return _edit(None)


@bp.route("/forms/<int:form_id>", methods=["GET", "POST"])
@require_permission("marketing.manage")
def form_edit(form_id: int):
    """Change a form; shows the hosted page link and the snippet to embed it."""
    return _edit(db.get_or_404(LeadForm, form_id))
