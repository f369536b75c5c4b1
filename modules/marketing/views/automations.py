"""Marketing pages: automations (list with on/off, forms per kind, log, run now)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.auth.permissions import require_permission
from core.customers.models import Customer
from core.extensions import db
from core.fields import DigitsIntegerField
from core.i18n import normalize
from core.pagination import request_page
from modules.marketing import personalise
from modules.marketing.automations import KIND_LABELS, OCCASIONS, run_automation, sent_counts
from modules.marketing.models.automations import KINDS, Automation, AutomationSend
from modules.marketing.models.segments import Segment
from modules.marketing.views import bp

HELP = {
    "welcome": _l("Sent to each new customer a number of days after they were added. Make "
                  "several steps (1, 2, 3...) for a series."),
    "birthday": _l("Sent on the customer's birthday (Jalali day, Tehran time), once a year."),
    "anniversary": _l("Sent on the customer's anniversary (Jalali day, Tehran time), once a "
                      "year."),
    "occasion": _l("Sent to every consenting customer on a fixed Jalali date, once a year."),
    "winback": _l("Sent to customers the RFM analysis puts 'at risk', at most once per the "
                  "days below."),
}
STATUS_LABELS = {"sent": _l("Sent"), "suppressed": _l("Opted out"), "failed": _l("Failed")}


class AutomationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    channel = SelectField(_l("Channel"), choices=[("sms", _l("SMS")), ("email", _l("Email"))],
                          description=_l("Only customers who consented to this channel get it."))
    active = BooleanField(_l("On"), description=_l("While off, nothing is sent."))
    step = DigitsIntegerField(_l("Step"), default=1, validators=[Optional()],
                              description=_l("Order in the welcome series: 1 first."))
    delay_days = DigitsIntegerField(_l("Days"), default=0, validators=[Optional()])
    preset = SelectField(_l("Occasion"), choices=[], validate_choice=False)
    occasion_month = DigitsIntegerField(_l("Jalali month"), validators=[Optional()],
                                        description=_l("1 = Farvardin … 12 = Esfand"))
    occasion_day = DigitsIntegerField(_l("Day of the month"), validators=[Optional()])
    segment_id = SelectField(_l("Only customers in segment"), choices=[],
                             validate_choice=False,
                             description=_l("Empty: every customer who qualifies."))
    subject = StringField(_l("Email subject"), validators=[Length(max=250)])
    body_text = TextAreaField(_l("Message"), validators=[DataRequired()],
                              description=_l("Fields: {{ first_name }}, {{ last_name }}, "
                                             "{{ display_name }}, {{ city }}; e.g. "
                                             "{{ first_name|default(\"friend\") }}."))

    def validate_body_text(self, field):
        try:
            personalise.check(field.data)
        except personalise.PersonaliseError as error:
            raise ValidationError(_("This text cannot be used: %(error)s",
                                    error=str(error))) from error

    def validate_subject(self, field):
        if self.channel.data == "email" and not (field.data or "").strip():
            raise ValidationError(_("An email needs a subject."))
        self.validate_body_text(field) if field.data else None


def _check_kind(form: AutomationForm, kind: str) -> bool:
    """Kind-specific checks; errors go on the fields."""
    ok = True
    if kind == "occasion":
        month, day = form.occasion_month.data, form.occasion_day.data
        longest = 31 if month and month <= 6 else 30
        if not month or not 1 <= month <= 12:
            form.occasion_month.errors = [_("Choose a month from 1 to 12.")]
            ok = False
        elif not day or not 1 <= day <= longest:
            form.occasion_day.errors = [_("This month has days 1 to %(n)s.", n=longest)]
            ok = False
    if kind == "winback" and not (form.delay_days.data or 0) >= 1:
        form.delay_days.errors = [_("Give at least one day between two messages.")]
        ok = False
    if kind == "welcome":
        if (form.delay_days.data or 0) < 0:
            form.delay_days.errors = [_("Cannot be negative.")]
            ok = False
        if not 1 <= (form.step.data or 1) <= 20:
            form.step.errors = [_("A step is from 1 to 20.")]
            ok = False
    return ok


def _choices(form: AutomationForm) -> None:
    form.segment_id.choices = [("", "—")] + [
        (str(s.id), s.name) for s in db.session.execute(
            select(Segment).order_by(Segment.name)).scalars()]
    form.preset.choices = [("", _("Another date"))] + [
        (f"{m}-{d}", str(label)) for label, m, d in OCCASIONS]


@bp.route("/automations", endpoint="automations")
@require_permission("marketing.view")
def automations_list():
    """Every automation with its switch, schedule and how much it sent."""
    q = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    stmt = select(Automation)
    if kind in KINDS:
        stmt = stmt.where(Automation.kind == kind)
    items = list(db.session.execute(stmt.order_by(Automation.kind, Automation.step,
                                                  Automation.id)).scalars())
    if q:
        key = normalize(q)
        items = [a for a in items if key in normalize(a.name)]
    return render_template("marketing/automations.html", items=items, q=q, kind=kind,
                           labels=KIND_LABELS, help=HELP, occasions=OCCASIONS,
                           counts=sent_counts([a.id for a in items]))


def _save(automation: Automation | None, kind: str):
    form = AutomationForm(obj=automation)
    _choices(form)
    if automation is None and request.method == "GET":
        form.name.data = str(KIND_LABELS[kind])
        form.delay_days.data = 90 if kind == "winback" else 0
    if request.method == "GET" and automation is not None:
        form.segment_id.data = str(automation.segment_id or "")
        form.preset.data = ""  # the month and day fields show the date
    if request.method == "POST" and form.preset.data and kind == "occasion":
        month, _sep, day = form.preset.data.partition("-")
        form.occasion_month.data, form.occasion_day.data = int(month), int(day)
    if form.validate_on_submit() and _check_kind(form, kind):
        new = automation is None
        automation = automation or Automation(kind=kind)
        for name in ("name", "channel", "active", "subject", "body_text"):
            setattr(automation, name, getattr(form, name).data or
                    ("" if name != "active" else False))
        automation.step = form.step.data or 1 if kind == "welcome" else 1
        automation.delay_days = form.delay_days.data or 0
        automation.occasion_month = form.occasion_month.data if kind == "occasion" else None
        automation.occasion_day = form.occasion_day.data if kind == "occasion" else None
        automation.segment_id = int(form.segment_id.data) if form.segment_id.data else None
        if new:
            db.session.add(automation)
        db.session.commit()
        flash(_("Automation saved."), "success")
        return redirect(url_for("marketing.automations"))
    from modules.marketing.sms_length import sms_length

    parts = sms_length(form.body_text.data or "").parts if form.body_text.data else 0
    return render_template("marketing/automation_form.html", form=form, kind=kind,
                           automation=automation, label=KIND_LABELS[kind], help=HELP[kind],
                           sms_parts=parts)


@bp.route("/automations/new", methods=["GET", "POST"])
@require_permission("marketing.manage")
def automation_new():
    """A new automation of the kind chosen on the list."""
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        abort(404)
    return _save(None, kind)


@bp.route("/automations/<int:automation_id>/edit", methods=["GET", "POST"])
@require_permission("marketing.manage")
def automation_edit(automation_id: int):
    """Change an automation (its kind stays)."""
    automation = db.get_or_404(Automation, automation_id)
    return _save(automation, automation.kind)


@bp.route("/automations/<int:automation_id>/toggle", methods=["POST"])
@require_permission("marketing.manage")
def automation_toggle(automation_id: int):
    """Turn an automation on or off."""
    automation = db.get_or_404(Automation, automation_id)
    automation.active = not automation.active
    db.session.commit()
    flash(_("%(name)s is on.", name=automation.name) if automation.active
          else _("%(name)s is off.", name=automation.name), "success")
    return redirect(url_for("marketing.automations"))


@bp.route("/automations/<int:automation_id>/run", methods=["POST"])
@require_permission("marketing.manage")
def automation_run(automation_id: int):
    """Run one automation now (what it owes today; nobody gets a message twice)."""
    automation = db.get_or_404(Automation, automation_id)
    count = run_automation(automation)
    flash(_("Run done: %(n)s message(s) queued.", n=count), "success")
    return redirect(url_for("marketing.automation_log", automation_id=automation.id))


@bp.route("/automations/<int:automation_id>/delete", methods=["POST"])
@require_permission("marketing.manage")
def automation_delete(automation_id: int):
    """Delete an automation and its log."""
    automation = db.get_or_404(Automation, automation_id)
    db.session.delete(automation)
    db.session.commit()
    flash(_("Automation deleted."), "success")
    return redirect(url_for("marketing.automations"))


@bp.route("/automations/<int:automation_id>/log")
@require_permission("marketing.view")
def automation_log(automation_id: int):
    """What the automation sent, to whom and when, newest first."""
    automation = db.get_or_404(Automation, automation_id)
    stmt = select(AutomationSend, Customer.display_name).join(
        Customer, Customer.id == AutomationSend.customer_id).where(
        AutomationSend.automation_id == automation.id)
    status = request.args.get("status", "")
    if status in STATUS_LABELS:
        stmt = stmt.where(AutomationSend.status == status)
    page = request_page(stmt, [AutomationSend.sent_at.desc(), AutomationSend.id.desc()])
    return render_template("marketing/automation_log.html", automation=automation, page=page,
                           status=status, statuses=STATUS_LABELS, labels=KIND_LABELS)
