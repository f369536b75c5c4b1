"""Campaign forms and the checks shared by the pages and the API (fields, templates, A/B)."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.extensions import db
from core.fields import DigitsIntegerField, JalaliDateTimeField
from core.i18n import lazy_digits, to_latin_digits
from modules.marketing import personalise
from modules.marketing.models.campaigns import CHANNELS, Campaign
from modules.marketing.models.segments import Segment

EDITABLE = ("draft", "scheduled")  # a paused send keeps the text its first half got
TEMPLATE_FIELDS = ("subject", "body_text", "body_html", "subject_b", "body_text_b")
FIELDS = ("name", "channel", "segment_id", "subject", "body_text", "body_html", "ab_test",
          "subject_b", "body_text_b", "ab_percent", "ab_metric", "ab_wait_hours", "cost",
          "attribution_days", "throttle_per_minute", "quiet_start", "quiet_end")


class CampaignError(ValueError):
    """A campaign cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _segment_id(value) -> int | None:
    try:
        return int(value) if value not in (None, "", "0", 0) else None
    except (TypeError, ValueError):
        return None


def minutes_of(text: str | None) -> int | None:
    """``"22:30"`` (any digits) → minutes after midnight; empty → None; else ValueError."""
    raw = to_latin_digits(str(text or "")).strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(_("%(value)s is not a time; write it as hours:minutes, e.g. 22:00",
                           value=text))
    return int(match[1]) * 60 + int(match[2])


def clock(minutes: int | None) -> str:
    """Minutes after midnight as ``HH:MM`` (empty for None)."""
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


class CampaignForm(FlaskForm):
    name = StringField(_l("Campaign name"), validators=[DataRequired(), Length(max=160)])
    channel = SelectField(_l("Channel"), choices=[("email", _l("Email")), ("sms", _l("SMS"))])
    segment_id = SelectField(_l("Segment"), coerce=_segment_id, validate_choice=False)
    subject = StringField(_l("Subject"), validators=[Length(max=250)])
    body_text = TextAreaField(_l("Text"), render_kw={"rows": 6, "data-sms-count": True})
    body_html = TextAreaField(_l("HTML (optional)"), render_kw={"rows": 6, "dir": "ltr"})
    ab_test = BooleanField(_l("A/B test a second version"))
    subject_b = StringField(_l("Subject B"), validators=[Length(max=250)])
    body_text_b = TextAreaField(_l("Text B"), render_kw={"rows": 4, "data-sms-count": True})
    ab_percent = DigitsIntegerField(_l("Test audience (percent)"), validators=[Optional()],
                                    description=_l("Split in two halves; the winner goes to "
                                                   "the rest."))
    ab_metric = SelectField(_l("Winner by"), choices=[("open", _l("Opens")),
                                                     ("click", _l("Clicks"))])
    ab_wait_hours = DigitsIntegerField(_l("Wait before choosing (hours)"),
                                       validators=[Optional()])
    cost = DigitsIntegerField(_l("Cost (rials)"), validators=[Optional()])
    attribution_days = DigitsIntegerField(_l("Attribution window (days)"),
                                          validators=[Optional()])
    throttle_per_minute = DigitsIntegerField(_l("At most per minute"), validators=[Optional()],
                                             description=_l("Empty: as fast as the gateway "
                                                            "allows."))
    quiet_start = StringField(_l("Quiet hours from"),
                              render_kw={"dir": "ltr", "placeholder": lazy_digits("22:00")})
    quiet_end = StringField(_l("Quiet hours until"),
                            render_kw={"dir": "ltr", "placeholder": lazy_digits("08:00")})

    def fill_choices(self) -> None:
        """Segments to choose from, by name."""
        segments = db.session.execute(select(Segment.id, Segment.name)
                                      .order_by(Segment.name)).all()
        self.segment_id.choices = [(0, _("Choose a segment"))] + [tuple(s) for s in segments]

    def values(self) -> dict:
        """The submitted values as ``check_values`` takes them (times still text)."""
        return {name: getattr(self, name).data for name in FIELDS}


class TestSendForm(FlaskForm):
    address = StringField(_l("Send a test to"), validators=[DataRequired(), Length(max=200)],
                          render_kw={"dir": "ltr"},
                          description=_l("An email address or a mobile number."))


class ScheduleForm(FlaskForm):
    when = JalaliDateTimeField(_l("Send at (Tehran time)"), validators=[DataRequired()])


def _range(errors, values, name, low, high, label) -> None:
    value = values.get(name)
    if value is not None and not low <= value <= high:
        errors[name] = _("%(label)s must be between %(low)s and %(high)s.", label=label,
                         low=low, high=high)


def check_values(values: dict) -> dict:
    """Cleaned values or CampaignError with every problem at once (shared by UI and API)."""
    values = {k: v for k, v in values.items() if k in FIELDS}
    errors: dict[str, str] = {}
    for key in ("name", "subject", "body_text", "body_html", "subject_b", "body_text_b"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if "name" in values and not values["name"]:
        errors["name"] = _("Give the campaign a name.")
    channel = values.get("channel", "email")
    if channel not in CHANNELS:
        errors["channel"] = _("Choose email or SMS.")
    if "segment_id" in values:
        values["segment_id"] = _segment_id(values["segment_id"])
        if values["segment_id"] and db.session.get(Segment, values["segment_id"]) is None:
            errors["segment_id"] = _("That segment does not exist.")
    for key in ("quiet_start", "quiet_end"):
        if key in values and not isinstance(values[key], int | None):
            try:
                values[key] = minutes_of(values[key])
            except ValueError as exc:
                errors[key] = str(exc)
    for key in TEMPLATE_FIELDS:
        try:
            personalise.check(values.get(key) or "")
        except personalise.PersonaliseError as exc:
            errors[key] = _("The fields in this text cannot be read: %(reason)s", reason=exc)
    for key in ("ab_percent", "ab_wait_hours", "cost", "attribution_days"):
        if key in values and values[key] is None:
            values.pop(key)
    _range(errors, values, "ab_percent", 2, 50, _("The test audience"))
    _range(errors, values, "ab_wait_hours", 1, 168, _("The wait"))
    _range(errors, values, "attribution_days", 1, 365, _("The attribution window"))
    _range(errors, values, "throttle_per_minute", 1, 100000, _("The per-minute limit"))
    if (values.get("cost") or 0) < 0:
        errors["cost"] = _("The cost cannot be negative.")
    if values.get("ab_metric", "open") not in ("open", "click"):
        errors["ab_metric"] = _("Choose opens or clicks.")
    if errors:
        raise CampaignError(errors)
    return values


def _complete(campaign: Campaign) -> dict:
    """Rules on the whole campaign after the changes (what a channel needs)."""
    errors = {}
    if campaign.channel == "email" and not campaign.subject:
        errors["subject"] = _("An email needs a subject.")
    if not campaign.body_text and not (campaign.channel == "email" and campaign.body_html):
        errors["body_text"] = _("Write the message.")
    if campaign.ab_test:
        if campaign.channel == "email" and not (campaign.subject_b or campaign.body_text_b):
            errors["subject_b"] = _("Version B needs another subject or text.")
        if campaign.channel == "sms" and not campaign.body_text_b:
            errors["body_text_b"] = _("Version B needs its own text.")
        if campaign.channel == "sms" and campaign.ab_metric == "open":
            errors["ab_metric"] = _("An SMS has no opens; choose clicks.")
    if (campaign.quiet_start is None) != (campaign.quiet_end is None):
        errors["quiet_end"] = _("Give both ends of the quiet hours, or neither.")
    return errors


def save_campaign(campaign: Campaign | None, values: dict, *, by=None) -> Campaign:
    """Create or change a campaign from ``values``; CampaignError when something is wrong."""
    if campaign is not None and campaign.status not in EDITABLE:
        raise CampaignError({"status": _("A campaign that is sending or done cannot change.")})
    values = check_values(values)
    if campaign is None:
        campaign = Campaign(status="draft", created_by_id=getattr(by, "id", None))
        db.session.add(campaign)
    for key, value in values.items():
        setattr(campaign, key, value)
    errors = _complete(campaign)
    if errors:
        if campaign.id is None:
            db.session.expunge(campaign)
        else:
            db.session.expire(campaign)
        raise CampaignError(errors)
    db.session.flush()
    return campaign
