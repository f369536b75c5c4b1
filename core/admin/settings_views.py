"""Admin page for deployment settings: company, display, fiscal year, SMTP and SMS."""

import json

from flask import abort, flash, redirect, render_template, send_from_directory, url_for
from flask_babel import gettext as _

from core.admin import settings as rules
from core.admin.forms import SettingsForm
from core.admin.views import bp
from core.auth.permissions import authenticated, require_permission
from core.extensions import db

# form field -> setting key (the logo and the password are handled on their own)
FORM_KEYS = {
    "legal_name": "company.legal_name", "national_id": "company.national_id",
    "economic_code": "company.economic_code", "address": "company.address",
    "postal_code": "company.postal_code", "language": "display.language",
    "unit": "display.unit", "year_start_month": "fiscal.year_start_month",
    "smtp_host": "smtp.host", "smtp_port": "smtp.port", "smtp_username": "smtp.username",
    "smtp_tls": "smtp.tls", "smtp_from": "smtp.from", "sms_provider": "sms.provider",
}
MASK = "********"


def sms_provider_names() -> list[str]:
    """The SMS gateways the messaging work offers."""
    try:
        from core.messaging.sms import PROVIDERS
    except ImportError:
        return []
    return sorted(PROVIDERS)
SECRET_WORDS = ("password", "secret", "token", "key", "apikey")


def _mask_sms(config: dict) -> dict:
    """SMS settings with secret-looking values hidden (they are never sent back to a browser)."""
    return {k: MASK if any(w in k.lower() for w in SECRET_WORDS) and v else v
            for k, v in (config or {}).items()}


def _unmask_sms(config: dict, stored: dict) -> dict:
    return {k: stored.get(k, "") if v == MASK else v for k, v in config.items()}


def _form_values(form: SettingsForm, stored: dict) -> tuple[dict, dict]:
    """The submitted values as setting keys, and errors found while reading them."""
    values = {key: getattr(form, name).data or "" for name, key in FORM_KEYS.items()}
    values["fiscal.year_start_month"] = form.year_start_month.data
    if not values["smtp.port"]:
        values.pop("smtp.port")
    if form.smtp_clear_password.data:
        values["smtp.password"] = ""
    elif form.smtp_password.data:
        values["smtp.password"] = form.smtp_password.data
    errors = {}
    if form.sms_config.data and form.sms_config.data.strip():
        try:
            config = json.loads(form.sms_config.data)
            values["sms.config"] = _unmask_sms(config, stored.get("sms.config") or {}) \
                if isinstance(config, dict) else config
        except ValueError:
            errors["sms.config"] = _("is not valid JSON")
    else:
        values["sms.config"] = {}
    return values, errors


@bp.route("/settings", methods=["GET", "POST"])
@require_permission("admin.settings")
def settings():
    """Company profile, display, fiscal year, SMTP and SMS settings."""
    stored = rules.current()
    data = {name: stored.get(key) for name, key in FORM_KEYS.items()}
    data["sms_config"] = json.dumps(_mask_sms(stored.get("sms.config") or {}),
                                    ensure_ascii=False, indent=2)
    form = SettingsForm(data=data)
    from core.i18n import jmonth

    form.year_start_month.choices = [(m, jmonth(m)) for m in range(1, 13)]
    form.sms_provider.choices = [("", _("Not set up"))] + [(name, name) for name in
                                                          sms_provider_names()]
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        values, errors = _form_values(form, stored)
        upload = form.logo.data
        try:
            cleaned = rules.clean(values)
        except rules.SettingsError as exc:
            errors.update(exc.errors)
        if upload and getattr(upload, "filename", ""):
            try:
                content = upload.read(rules.LOGO_MAX_BYTES + 1)
                rules.check_logo(content)
            except ValueError as exc:
                errors["company.logo"] = str(exc)
        if not errors:
            if upload and getattr(upload, "filename", ""):
                cleaned["company.logo"] = rules.store_logo(content)
            changed = rules.apply(cleaned)
            db.session.commit()
            flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.settings"))
    if errors:
        flash(_("Some settings are wrong; see the marked fields."), "danger")
        by_key = {key: name for name, key in FORM_KEYS.items()}
        by_key.update({"company.logo": "logo", "smtp.password": "smtp_password",
                       "sms.config": "sms_config"})
        for key, message in errors.items():
            getattr(form, by_key.get(key, "sms_provider")).errors = [message]
    return render_template("admin/settings.html", form=form, stored=stored,
                           has_password=bool(stored.get("smtp.password"))), 422 if errors else 200


@bp.route("/logo")
@authenticated
def logo():
    """The company logo (for the page header and documents)."""
    name = rules.current().get("company.logo")
    if not name:
        abort(404)
    return send_from_directory(rules.upload_dir(), name)
