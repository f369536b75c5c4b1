"""The signed-in user's own security page: optional TOTP enrolment."""

import pyotp
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from core.admin.forms import ActionForm, TotpEnrolForm
from core.audit import record
from core.auth.permissions import authenticated
from core.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")
ISSUER = "Peyvand"


def qr_svg(text: str) -> Markup | None:
    """An inline SVG QR code for ``text`` (no script, no style attribute), if segno is there."""
    try:
        import segno
    except ImportError:
        return None
    return Markup(segno.make(text, error="m").svg_inline(scale=4, dark="#000", light="#fff"))


@bp.route("/security", methods=["GET", "POST"])
@authenticated
def security():
    """Turn a one-time-password app on (scan, then confirm with a code) or off."""
    form = TotpEnrolForm()
    if current_user.totp_secret:
        return render_template("admin/security.html", enabled=True, action=ActionForm())
    secret = session.get("crm_totp_pending") or pyotp.random_base32()
    session["crm_totp_pending"] = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=current_user.email, issuer_name=ISSUER)
    status = 200
    if form.validate_on_submit():
        from core.i18n import to_latin_digits

        if pyotp.TOTP(secret).verify(to_latin_digits(form.code.data), valid_window=1):
            current_user.totp_secret = secret
            session.pop("crm_totp_pending", None)
            record("user.totp_enabled", target=f"user:{current_user.id}")
            db.session.commit()
            flash(_("Your one-time-password app is on. You will need a code at each sign-in."),
                  "success")
            return redirect(url_for("account.security"))
        form.code.errors = [_("The code is wrong or has expired.")]
        status = 422
    return render_template("admin/security.html", enabled=False, form=form, secret=secret,
                           uri=uri, qr=qr_svg(uri)), status


@bp.route("/security/disable", methods=["POST"])
@authenticated
def disable_totp():
    """Turn the signed-in user's one-time-password app off."""
    if ActionForm().validate_on_submit():
        current_user.totp_secret = None
        record("user.totp_disabled", target=f"user:{current_user.id}")
        db.session.commit()
        flash(_("Your one-time-password app is off."), "info")
    return redirect(url_for("account.security"))
