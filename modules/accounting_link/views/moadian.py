"""Accounting-link pages: e-invoices for the taxpayers' system (list with status, one payload
as JSON, build one for a posted invoice, send again) and their settings."""

import json
from dataclasses import asdict

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.auth.permissions import require_permission
from core.database import utcnow
from core.extensions import db
from core.i18n import digits, fiscal_year_of, local_date
from core.pagination import request_page
from modules.accounting_link import moadian_submit as submit
from modules.accounting_link.moadian import MoadianError
from modules.accounting_link.models.moadian import EINVOICE_STATUSES, EInvoice
from modules.accounting_link.views import bp


def _number_hint() -> str:
    """An invoice number of this fiscal year ("۱۴۰۵-۱۲") in the reader's digits."""
    return digits(f"{fiscal_year_of(local_date(utcnow()))}-12")


class BuildForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=[("invoice", _l("Invoice")),
                                                ("credit_note", _l("Credit note"))])
    reference = StringField(_l("Number"), validators=[DataRequired(), Length(max=30)],
                            render_kw={"dir": "ltr", "placeholder": LazyString(_number_hint)},
                            description=_l("The document's number as sales shows it."))


class SettingsForm(FlaskForm):
    memory_id = StringField(_l("Memory id (شناسه یکتای حافظه مالیاتی)"),
                            validators=[Length(max=6)], render_kw={"dir": "ltr"},
                            description=_l("Six letters or digits, from your page in the "
                                           "taxpayers' system; the start of every tax id."))
    sstid = StringField(_l("Default product/service id"), validators=[Length(max=13)],
                        render_kw={"dir": "ltr", "inputmode": "numeric"},
                        description=_l("13 digits from the tax authority's list of goods and "
                                       "services; a product whose code is 13 digits uses its "
                                       "own."))
    unit_code = StringField(_l("Unit code"), validators=[Length(max=8)],
                            render_kw={"dir": "ltr", "inputmode": "numeric"},
                            description=_l("The unit of measure in the tax authority's table "
                                           "(1627 is a piece)."))
    endpoint = StringField(_l("Endpoint"), validators=[Length(max=300)],
                           render_kw={"dir": "ltr", "placeholder": "https://"},
                           description=_l("Where e-invoices are POSTed as JSON: a gateway that "
                                          "signs them with your key and forwards them to the "
                                          "tax authority."))
    enabled = BooleanField(_l("Submit e-invoices"),
                           description=_l("Build an e-invoice for every posted invoice, "
                                          "corrective invoice and credit note, and send it."))


def status_labels() -> dict[str, str]:
    return {"ready": _("Ready"), "pending": _("Waiting to send"), "sent": _("Sent"),
            "failed": _("Failed"), "invalid": _("Cannot be built")}


def subject_labels() -> dict[int, str]:
    return {1: _("Main"), 2: _("Corrective"), 3: _("Cancellation"), 4: _("Return")}


def _list(form: BuildForm, status_code: int = 200):
    status = request.args.get("status")
    stmt = select(EInvoice)
    if status in EINVOICE_STATUSES:
        stmt = stmt.where(EInvoice.status == status)
    page = request_page(stmt, [EInvoice.id.desc()])
    return render_template("accounting_link/moadian.html", page=page, form=form, status=status,
                           statuses=status_labels(), subjects=subject_labels(),
                           settings=submit.current_settings(),
                           invoice_url=_invoice_url), status_code


def _invoice_url(invoice_id: int) -> str | None:
    if "sales.invoice_show" in current_app.view_functions:
        return url_for("sales.invoice_show", invoice_id=invoice_id)
    return None


@bp.route("/moadian", endpoint="moadian")
@require_permission("accounting_link.view")
def moadian_list():
    """E-invoices, newest first, with their delivery status."""
    return _list(BuildForm())


@bp.route("/moadian/<int:einvoice_id>")
@require_permission("accounting_link.view")
def moadian_show(einvoice_id: int):
    """One e-invoice: its tax id, status, last error and the payload as JSON."""
    record = db.session.get(EInvoice, einvoice_id) or abort(404)
    pretty = (json.dumps(record.payload, ensure_ascii=False, indent=2, sort_keys=False)
              if record.payload else "")
    return render_template("accounting_link/moadian_show.html", record=record, pretty=pretty,
                           statuses=status_labels(), subjects=subject_labels(),
                           settings=submit.current_settings(),
                           invoice_url=_invoice_url(record.invoice_id), form=FlaskForm())


def _build(invoice) -> EInvoice | None:
    try:
        record = submit.build_einvoice(invoice, by=current_user)
    except MoadianError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None
    db.session.commit()
    return record


@bp.route("/moadian/build", methods=["POST"])
@require_permission("accounting_link.manage")
def moadian_build():
    """Build (and, while submission is on, queue) the e-invoice of one posted document."""
    from modules.sales.services import posted_invoice_by_reference

    form = BuildForm()
    if not form.validate_on_submit():
        return _list(form, 422)
    invoice = posted_invoice_by_reference(form.reference.data, form.kind.data)
    if invoice is None:
        form.reference.errors.append(_("There is no posted document with this number."))
        return _list(form, 422)
    record = _build(invoice)
    if record is None:
        return _list(form, 422)
    flash(_("E-invoice %(tax_id)s is built.", tax_id=record.tax_id), "success")
    return redirect(url_for("accounting_link.moadian_show", einvoice_id=record.id))


@bp.route("/moadian/<int:einvoice_id>/rebuild", methods=["POST"])
@require_permission("accounting_link.manage")
def moadian_rebuild(einvoice_id: int):
    """Build again an e-invoice that could not be built (after fixing what it said)."""
    from modules.sales.services import invoice_by_id

    record = db.session.get(EInvoice, einvoice_id) or abort(404)
    FlaskForm().validate_on_submit() or abort(400)
    invoice = invoice_by_id(record.invoice_id) or abort(404)
    if _build(invoice) is not None:
        flash(_("The e-invoice is built."), "success")
    return redirect(url_for("accounting_link.moadian_show", einvoice_id=einvoice_id))


@bp.route("/moadian/<int:einvoice_id>/send", methods=["POST"])
@require_permission("accounting_link.manage")
def moadian_send(einvoice_id: int):
    """Queue an e-invoice that is ready, or send a failed one again."""
    record = db.session.get(EInvoice, einvoice_id) or abort(404)
    FlaskForm().validate_on_submit() or abort(400)
    if not submit.current_settings().enabled:
        flash(_("Submission is switched off; enable it in the e-invoice settings first."),
              "warning")
    elif record.status not in ("ready", "failed"):
        flash(_("Only an e-invoice that is ready or failed can be sent."), "warning")
    else:
        submit.queue(record)
        db.session.commit()
        flash(_("E-invoice %(tax_id)s is queued.", tax_id=record.tax_id), "success")
    return redirect(url_for("accounting_link.moadian_show", einvoice_id=einvoice_id))


@bp.route("/moadian/settings", methods=["GET", "POST"])
@require_permission("accounting_link.manage")
def moadian_settings():
    """The memory id, product id, unit, endpoint and whether submission is on."""
    current = submit.current_settings()
    form = SettingsForm(data=asdict(current))
    if form.validate_on_submit():
        cleaned, errors = submit.clean_settings(
            memory_id=form.memory_id.data, endpoint=form.endpoint.data,
            enabled=form.enabled.data, sstid=form.sstid.data, unit_code=form.unit_code.data)
        for name, message in errors.items():
            getattr(form, name).errors.append(message)
        if not errors:
            submit.save_settings(cleaned)
            db.session.commit()
            flash(_("E-invoice settings saved."), "success")
            return redirect(url_for("accounting_link.moadian_settings"))
    status = 422 if form.errors or any(f.errors for f in form) else 200
    return render_template("accounting_link/moadian_settings.html", form=form), status
