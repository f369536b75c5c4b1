"""Club settings: point value, return window, expiry, tier window, downgrade notice and
automatic enrolment (the ``loyalty.*`` deployment settings read by ``ledger.club_settings``)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired, NumberRange

from core import audit
from core.auth.permissions import require_permission
from core.database import set_setting
from core.extensions import db
from core.fields import DigitsIntegerField
from modules.loyalty import ledger
from modules.loyalty.views import bp

# name: (low, high) of each whole-number setting
LIMITS = {"point_value": (1, 10**9), "pending_days": (0, 365), "expiry_months": (0, 120),
          "tier_window_months": (1, 60), "downgrade_notice_days": (0, 365)}


def _number(label, name, description):
    low, high = LIMITS[name]
    return DigitsIntegerField(label, description=description, validators=[
        InputRequired(), NumberRange(low, high, _l("Enter a number from %(min)s to %(max)s."))])


class SettingsForm(FlaskForm):
    point_value = _number(_l("Value of one point (rials)"), "point_value",
                          _l("What one point is worth; the liability of outstanding points."))
    pending_days = _number(_l("Return window (days)"), "pending_days",
                           _l("Earned points wait this long before they can be used; 0: at "
                              "once."))
    expiry_months = _number(_l("Points expire after (months)"), "expiry_months",
                            _l("Jalali months a batch of points lives; 0: never."))
    tier_window_months = _number(_l("Tier window (months)"), "tier_window_months",
                                 _l("Tiers count points and purchases over this many recent "
                                    "Jalali months."))
    downgrade_notice_days = _number(_l("Downgrade notice (days)"), "downgrade_notice_days",
                                    _l("A member hears this long before moving down a tier."))
    auto_enrol = BooleanField(_l("Enrol customers on their first posted invoice"))


def save(values: dict) -> list[str]:
    """Store the settings whose value changed; returns their names."""
    current = ledger.club_settings()
    changed = [name for name, key in ledger.SETTING_KEYS.items()
               if name in values and values[name] != getattr(current, name)
               and set_setting(key, values[name])]
    if changed:
        audit.record("loyalty.settings", target="loyalty", detail={"changed": changed})
    return changed


@bp.route("/settings", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def settings():
    """The club's settings."""
    current = ledger.club_settings()
    form = SettingsForm(data={name: getattr(current, name) for name in ledger.SETTING_KEYS})
    if form.validate_on_submit():
        values = {name: form[name].data for name in LIMITS}
        values["auto_enrol"] = bool(form.auto_enrol.data)
        changed = save(values)
        db.session.commit()
        flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("loyalty.settings"))
    return render_template("loyalty/settings.html", form=form)
