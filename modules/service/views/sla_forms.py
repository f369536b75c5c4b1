"""Forms of the SLA settings: calendars, holidays, policies, escalation rules."""

import re
from zoneinfo import available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.fields import DigitsIntegerField, JalaliDateField
from core.i18n import digits, lazy_digits, to_latin_digits

# Saturday first (Python weekday numbers), as the Iranian week runs
WEEK = ((5, _l("Saturday")), (6, _l("Sunday")), (0, _l("Monday")), (1, _l("Tuesday")),
        (2, _l("Wednesday")), (3, _l("Thursday")), (4, _l("Friday")))
_SPAN = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?")


def parse_spans(text: str) -> list[list[int]]:
    """"08:00-12:00, 13:00-17:00" (any digits) as minute spans; empty means closed."""
    spans = []
    for part in re.split(r"[,،;]", to_latin_digits(text or "")):
        part = part.strip()
        if not part:
            continue
        match = _SPAN.fullmatch(part)
        if match is None:
            raise ValueError(_("%(value)s is not a time range; write it as 08:00-17:00.",
                               value=part))
        h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or end > 1440 or start >= end:
            raise ValueError(_("%(value)s: the end must come after the start, within one day.",
                               value=part))
        spans.append([start, end])
    spans.sort()
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            raise ValueError(_("The time ranges overlap."))
    return spans


def show_spans(spans) -> str:
    """Minute spans as "08:00-17:00, ..." in the page's digits."""
    return digits(", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                            for s, e in spans or ()))


class CalendarForm(FlaskForm):
    """Name, time zone, and working hours per weekday."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), default="Asia/Tehran", render_kw={"dir": "ltr"})
    is_default = BooleanField(_l("Default calendar (for policies that name none)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(available_timezones())
        self.day_fields = [(weekday, self[f"day_{weekday}"]) for weekday, _label in WEEK]

    def fill(self, calendar) -> None:
        """Show a calendar in the form."""
        self.name.data, self.timezone.data = calendar.name, calendar.timezone
        self.is_default.data = calendar.is_default
        for weekday, f in self.day_fields:
            f.data = show_spans((calendar.hours or {}).get(str(weekday), []))

    def hours(self) -> dict[str, list[list[int]]] | None:
        """The weekly hours, or None after adding errors to the day fields."""
        result, ok = {}, True
        for weekday, f in self.day_fields:
            try:
                result[str(weekday)] = parse_spans(f.data)
            except ValueError as exc:
                f.errors = [*f.errors, str(exc)]
                ok = False
        if ok and not any(result.values()):
            self.day_fields[0][1].errors = [_("Give at least one day working hours.")]
            ok = False
        return result if ok else None


for _weekday, _label in WEEK:
    setattr(CalendarForm, f"day_{_weekday}", StringField(
        _label, validators=[Optional()],
        render_kw={"dir": "ltr", "placeholder": lazy_digits("08:00-17:00")}))


class YearField(DigitsIntegerField):
    """A Jalali year, shown without a thousands separator."""

    def show(self, value) -> str:
        return digits(str(value))


class HolidayImportForm(FlaskForm):
    """A CSV or XLSX file with jalali_date,name for one Jalali year."""

    year = YearField(_l("Jalali year"), validators=[DataRequired()])
    file = FileField(_l("File (CSV or XLSX)"),
                     validators=[DataRequired()])

    def validate_year(self, field):
        if field.data is not None and not 1300 <= field.data <= 1500:
            raise ValidationError(_("Enter a Jalali year such as 1404."))


class FixedHolidaysForm(FlaskForm):
    """Load the fixed solar holidays of a year."""

    year = YearField(_l("Jalali year"), validators=[DataRequired()])

    def validate_year(self, field):
        if field.data is not None and not 1300 <= field.data <= 1500:
            raise ValidationError(_("Enter a Jalali year such as 1404."))


class HolidayForm(FlaskForm):
    """One holiday by hand."""

    day = JalaliDateField(_l("Date"), validators=[DataRequired()])
    name = StringField(_l("Occasion"), validators=[DataRequired(), Length(max=200)])


class DeleteForm(FlaskForm):
    """No fields: CSRF only."""


def _minutes(hours, minutes) -> int:
    return (hours or 0) * 60 + (minutes or 0)


class PolicyForm(FlaskForm):
    """Which tickets (priority, customer class, club tier) and their targets."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    priority = SelectField(_l("Priority"), default="")
    customer_tag_id = SelectField(_l("Customer class (tag)"), default="")
    loyalty_tier = StringField(_l("Club tier"), validators=[Length(max=60)])
    first_hours = DigitsIntegerField(_l("First response: hours"), validators=[Optional()])
    first_minutes = DigitsIntegerField(_l("First response: minutes"), validators=[Optional()])
    resolution_hours = DigitsIntegerField(_l("Resolution: hours"), validators=[Optional()])
    resolution_minutes = DigitsIntegerField(_l("Resolution: minutes"), validators=[Optional()])
    warn_percent = DigitsIntegerField(_l("Warn at (percent of the target)"), default=80,
                                      validators=[DataRequired()])
    calendar_id = SelectField(_l("Business hours"), default="")
    position = DigitsIntegerField(_l("Order (lower first among equally specific)"), default=0,
                                  validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)

    def validate_warn_percent(self, field):
        if field.data is not None and not 1 <= field.data <= 100:
            raise ValidationError(_("Enter a percent between 1 and 100."))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the targets taken together (hours and minutes)."""
        ok = super().validate(extra_validators)
        parts = (self.first_hours, self.first_minutes, self.resolution_hours,
                 self.resolution_minutes)
        if any(f.data is not None and f.data < 0 for f in parts):
            return self._refuse(self.first_hours, _("Times cannot be negative."))
        first = _minutes(self.first_hours.data, self.first_minutes.data)
        resolution = _minutes(self.resolution_hours.data, self.resolution_minutes.data)
        if first <= 0:
            ok = self._refuse(self.first_hours,
                              _("Give a first-response target of at least one minute."))
        if resolution <= 0:
            ok = self._refuse(self.resolution_hours,
                              _("Give a resolution target of at least one minute."))
        elif resolution < first:
            ok = self._refuse(self.resolution_hours,
                              _("Resolution cannot be due before the first response."))
        return ok

    @staticmethod
    def _refuse(field, message: str) -> bool:
        field.errors = [*field.errors, message]
        return False

    def fill(self, policy) -> None:
        """Show a policy in the form."""
        for key in ("name", "priority", "loyalty_tier", "warn_percent", "position", "active"):
            if getattr(self, key, None) is not None:  # no club tier while loyalty is off
                getattr(self, key).data = getattr(policy, key)
        self.customer_tag_id.data = str(policy.customer_tag_id or "")
        self.calendar_id.data = str(policy.calendar_id or "")
        self.first_hours.data, self.first_minutes.data = divmod(policy.first_response_minutes,
                                                                60)
        self.resolution_hours.data, self.resolution_minutes.data = divmod(
            policy.resolution_minutes, 60)

    def apply(self, policy) -> None:
        """Copy the form into a policy."""
        policy.name, policy.priority = self.name.data.strip(), self.priority.data or ""
        if self.loyalty_tier is not None:
            policy.loyalty_tier = (self.loyalty_tier.data or "").strip()
        policy.loyalty_tier = policy.loyalty_tier or ""
        policy.customer_tag_id = int(self.customer_tag_id.data or 0) or None
        policy.calendar_id = int(self.calendar_id.data or 0) or None
        policy.first_response_minutes = _minutes(self.first_hours.data, self.first_minutes.data)
        policy.resolution_minutes = _minutes(self.resolution_hours.data,
                                             self.resolution_minutes.data)
        policy.warn_percent, policy.position = self.warn_percent.data, self.position.data or 0
        policy.active = bool(self.active.data)


class RuleForm(FlaskForm):
    """When (trigger, priority) and what (action, target)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    trigger = SelectField(_l("When"))
    priority = SelectField(_l("Only tickets of priority"), default="")
    action = SelectField(_l("Then"))
    target_user_id = SelectField(_l("Colleague"), default="")
    target_team_id = SelectField(_l("Team"), default="")
    active = BooleanField(_l("Active"), default=True)

    def validate_target_team_id(self, field):
        if self.action.data == "reassign" and not (field.data or self.target_user_id.data):
            raise ValidationError(_("Choose the person or the team to reassign to."))

    def fill(self, rule) -> None:
        """Show a rule in the form."""
        for key in ("name", "trigger", "priority", "action", "active"):
            getattr(self, key).data = getattr(rule, key)
        self.target_user_id.data = str(rule.target_user_id or "")
        self.target_team_id.data = str(rule.target_team_id or "")

    def apply(self, rule) -> None:
        """Copy the form into a rule."""
        rule.name, rule.trigger = self.name.data.strip(), self.trigger.data
        rule.priority, rule.action = self.priority.data or "", self.action.data
        rule.target_user_id = int(self.target_user_id.data or 0) or None
        rule.target_team_id = int(self.target_team_id.data or 0) or None
        rule.active = bool(self.active.data)
