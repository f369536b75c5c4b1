"""SLA settings under /service/sla: calendars and holidays, policies, escalation rules."""

import tempfile
from pathlib import Path

import jdatetime
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.auth.models import Team, User
from core.auth.permissions import require_permission
from core.customers.models import Tag
from core.extensions import db
from core.i18n import digits, jalali_month_range
from core.modules import is_active
from modules.service import holidays as holiday_data
from modules.service.escalation import ACTION_LABELS, TRIGGER_LABELS
from modules.service.models.sla import Calendar, EscalationRule, Holiday, SlaPolicy
from modules.service.sla_state import ensure_defaults
from modules.service.tickets import PRIORITY_LABELS
from modules.service.views import (
    bp,
    sla_policies,  # also adds the policy and rule pages
)
from modules.service.views.sla_forms import (
    WEEK,
    CalendarForm,
    DeleteForm,
    FixedHolidaysForm,
    HolidayForm,
    HolidayImportForm,
    show_spans,
)


@bp.route("/sla")
@require_permission("service.manage")
def sla():
    """Overview: calendars, policies and escalation rules."""
    ensure_defaults()
    db.session.commit()
    holiday_counts = dict(db.session.execute(
        select(Holiday.calendar_id, func.count()).group_by(Holiday.calendar_id)).all())
    return render_template(
        "service/sla.html", calendars=db.session.scalars(select(Calendar).order_by(
            Calendar.name)).all(), holiday_counts=holiday_counts,
        policies=db.session.scalars(select(SlaPolicy).order_by(
            SlaPolicy.position, SlaPolicy.id)).all(),
        rules=db.session.scalars(select(EscalationRule).order_by(EscalationRule.id)).all(),
        tags={t.id: t.name for t in db.session.scalars(select(Tag))},
        users={u.id: u.name or u.email for u in db.session.scalars(select(User))},
        teams={t.id: t.name for t in db.session.scalars(select(Team))},
        week=WEEK, show_spans=show_spans, priorities=PRIORITY_LABELS,
        triggers=TRIGGER_LABELS, actions=ACTION_LABELS, loyalty=is_active("loyalty"),
        delete_form=DeleteForm())


# --- calendars and holidays ------------------------------------------------------------------

def _save_calendar(calendar: Calendar | None):
    form = CalendarForm()
    if calendar is not None and request.method == "GET":
        form.fill(calendar)
    elif calendar is None and request.method == "GET":
        form.fill(Calendar(name="", timezone="Asia/Tehran", hours={}, is_default=False))
    if form.validate_on_submit():
        hours = form.hours()
        clash = db.session.scalar(select(Calendar.id).where(
            Calendar.name == form.name.data.strip(),
            Calendar.id != (calendar.id if calendar else 0)))
        if clash:
            form.name.errors = [*form.name.errors, _("Another calendar has this name.")]
        elif hours is not None:
            calendar = calendar or Calendar()
            calendar.name, calendar.timezone = form.name.data.strip(), form.timezone.data
            calendar.hours = hours
            if form.is_default.data:
                for other in db.session.scalars(select(Calendar).where(Calendar.is_default)):
                    other.is_default = False
            calendar.is_default = bool(form.is_default.data) or calendar.is_default or False
            db.session.add(calendar)
            db.session.commit()
            flash(_("Business hours saved.") + " " + sla_policies.recompute_note(), "success")
            return redirect(url_for("service.sla"))
    return render_template("service/sla_calendar.html", form=form, calendar=calendar,
                           week=WEEK, show_spans=show_spans)


@bp.route("/sla/calendars/new", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_calendar_new():
    """A new business-hours calendar."""
    return _save_calendar(None)


@bp.route("/sla/calendars/<int:calendar_id>", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_calendar_edit(calendar_id: int):
    """Edit a calendar's name, time zone and weekly hours."""
    return _save_calendar(db.get_or_404(Calendar, calendar_id))


def _current_jalali_year() -> int:
    return jdatetime.date.today().year


@bp.route("/sla/calendars/<int:calendar_id>/holidays")
@require_permission("service.manage")
def sla_holidays(calendar_id: int, forms: dict | None = None, errors=None):
    """The calendar's holidays of one Jalali year, with import and the fixed holidays."""
    calendar = db.get_or_404(Calendar, calendar_id)
    year = request.args.get("year", type=int) or _current_jalali_year()
    if not 1300 <= year <= 1500:
        year = _current_jalali_year()
    first, _end = jalali_month_range(year, 1)
    _start, last = jalali_month_range(year, 12)
    rows = db.session.scalars(select(Holiday).where(
        Holiday.calendar_id == calendar.id, Holiday.day >= first, Holiday.day <= last)
        .order_by(Holiday.day)).all()
    forms = forms or {}
    import_form = forms.get("import") or HolidayImportForm(formdata=None, year=year)
    fixed_form = forms.get("fixed") or FixedHolidaysForm(formdata=None, year=year)
    add_form = forms.get("add") or HolidayForm(formdata=None)
    return render_template("service/sla_holidays.html", calendar=calendar, year=year,
                           holidays=rows, import_form=import_form, fixed_form=fixed_form,
                           add_form=add_form, delete_form=DeleteForm(), errors=errors or [],
                           year_text=digits(str(year)))


@bp.route("/sla/calendars/<int:calendar_id>/holidays/import", methods=["POST"])
@require_permission("service.manage")
def sla_holidays_import(calendar_id: int):
    """Import a year's holidays from a CSV/XLSX file; nothing is imported if a line is bad."""
    calendar = db.get_or_404(Calendar, calendar_id)
    form = HolidayImportForm()
    if not form.validate_on_submit():
        return sla_holidays(calendar.id, forms={"import": form}), 400
    upload = form.file.data
    suffix = Path(upload.filename or "").suffix.lower()[:5] or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"holidays{suffix}"
        upload.save(path)
        result = holiday_data.import_file(calendar, path, year=form.year.data)
    if result.errors:
        db.session.rollback()
        flash(_("Nothing was imported; correct these lines and try again."), "danger")
        return sla_holidays(calendar.id, forms={"import": form}, errors=result.errors), 400
    db.session.commit()
    flash(_("%(added)s holidays added, %(updated)s renamed.", added=digits(str(result.added)),
            updated=digits(str(result.updated))), "success")
    return redirect(url_for("service.sla_holidays", calendar_id=calendar.id,
                            year=form.year.data))


@bp.route("/sla/calendars/<int:calendar_id>/holidays/fixed", methods=["POST"])
@require_permission("service.manage")
def sla_holidays_fixed(calendar_id: int):
    """Add the fixed solar holidays (Nowruz, 22 Bahman...) of a Jalali year."""
    calendar = db.get_or_404(Calendar, calendar_id)
    form = FixedHolidaysForm()
    if not form.validate_on_submit():
        return sla_holidays(calendar.id, forms={"fixed": form}), 400
    added = holiday_data.load_fixed(calendar, form.year.data)
    db.session.commit()
    flash(_("%(n)s fixed holidays added; add the lunar ones from a file.",
            n=digits(str(added))), "success")
    return redirect(url_for("service.sla_holidays", calendar_id=calendar.id,
                            year=form.year.data))


@bp.route("/sla/calendars/<int:calendar_id>/holidays/add", methods=["POST"])
@require_permission("service.manage")
def sla_holiday_add(calendar_id: int):
    """Add (or rename) one holiday."""
    calendar = db.get_or_404(Calendar, calendar_id)
    form = HolidayForm()
    if not form.validate_on_submit():
        return sla_holidays(calendar.id, forms={"add": form}), 400
    holiday_data._save(calendar, [(form.day.data, form.name.data.strip())])
    db.session.commit()
    flash(_("Holiday saved."), "success")
    year = jdatetime.date.fromgregorian(date=form.day.data).year
    return redirect(url_for("service.sla_holidays", calendar_id=calendar.id, year=year))


@bp.route("/sla/holidays/<int:holiday_id>/delete", methods=["POST"])
@require_permission("service.manage")
def sla_holiday_delete(holiday_id: int):
    """Remove one holiday."""
    holiday = db.get_or_404(Holiday, holiday_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    calendar_id = holiday.calendar_id
    year = jdatetime.date.fromgregorian(date=holiday.day).year
    db.session.delete(holiday)
    db.session.commit()
    flash(_("Holiday removed."), "success")
    return redirect(url_for("service.sla_holidays", calendar_id=calendar_id, year=year))

