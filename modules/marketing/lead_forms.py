"""Lead capture forms: building them, the signed render token, and handling a submission.

A submission is public: it is trusted only after the honeypot is empty and the signed token
(issued when the form was rendered, by the hosted page or the embed script) is valid.
"""

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from core.extensions import db
from modules.marketing import leads
from modules.marketing.models.forms import FIELDS, FormSubmission, LeadForm

HONEYPOT = "website"  # a field people never see; bots fill it
TOKEN_FIELD = "form_token"  # nosec B105  # a field name
TOKEN_MAX_AGE = 24 * 3600
FIELD_LABELS = {"name": _l("Name"), "email": _l("Email"), "mobile": _l("Mobile"),
                "company": _l("Company"), "job_title": _l("Job title"), "city": _l("City"),
                "message": _l("Message")}
_SALT = "marketing.form"


class FormError(ValueError):
    """The submission is invalid; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def new_key() -> str:
    """A fresh public key for a form (unguessable, URL-safe)."""
    return secrets.token_urlsafe(12)


def save_form(form: LeadForm | None, **values) -> LeadForm:
    """Create or change a form; ``fields`` is a list of {"name", "required"}."""
    errors = {}
    if not (values.get("name") or "").strip():
        errors["name"] = _("Give the form a name.")
    fields = [f for f in values.get("fields") or [] if f.get("name") in FIELDS]
    if not any(f["name"] in ("mobile", "email") for f in fields):
        errors["fields"] = _("A form needs a mobile or an email field to reach the lead.")
    if errors:
        raise FormError(errors)
    if form is None:
        form = LeadForm(key=new_key(), submissions=0)
        db.session.add(form)
    values["fields"] = [{"name": f["name"], "required": bool(f.get("required"))}
                        for f in fields]
    values["allowed_origins"] = "\n".join(origins_of(values.get("allowed_origins") or ""))
    for name, value in values.items():
        setattr(form, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return form


def origins_of(text: str) -> list[str]:
    """The allowed origins as ``scheme://host[:port]``, one per line (paths dropped)."""
    found = []
    for line in (text or "").split():
        parts = urlsplit(line.strip())
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}".lower()
            if origin not in found:
                found.append(origin)
    return found


def origin_allowed(form: LeadForm, origin: str | None) -> bool:
    """Whether a page on ``origin`` may embed and post this form."""
    return bool(origin) and origin.lower() in origins_of(form.allowed_origins)


def form_by_key(key: str) -> LeadForm | None:
    """The active form with this public key."""
    return db.session.execute(select(LeadForm).where(LeadForm.key == key,
                                                     LeadForm.active.is_(True))).scalar()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def render_token(form: LeadForm) -> str:
    """A signed token for one rendering of the form (checked on submit, valid a day)."""
    return _serializer().dumps({"k": form.key, "n": secrets.token_hex(4)})


def token_valid(form: LeadForm, token: str | None) -> bool:
    """Whether ``token`` was issued for this form and has not expired."""
    try:
        data = _serializer().loads(token or "", max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("k") == form.key


def utm_from(values: dict[str, Any], page_url: str = "") -> dict[str, str]:
    """UTM values from hidden fields, else from the query string of the page URL."""
    query = parse_qs(urlsplit(page_url or "").query)
    utm = {}
    for name in leads.UTM_FIELDS:
        value = str(values.get(name) or "").strip() or (query.get(name) or [""])[0].strip()
        if value:
            utm[name] = value[:120]
    return utm


def submit(form: LeadForm, values: dict[str, Any], page_url: str = "") -> FormSubmission | None:
    """Handle a public submission; None for a bot (honeypot filled), else the submission.

    Raises ``FormError`` when a required field is missing or a value is malformed.
    """
    if str(values.get(HONEYPOT) or "").strip():
        return None
    data = {f["name"]: str(values.get(f["name"]) or "").strip()[:2000] for f in form.fields}
    errors = {f["name"]: _("This field is required.") for f in form.fields
              if f.get("required") and not data.get(f["name"])}
    consent = bool(values.get("consent"))
    # Consent is optional: without the tick the lead is kept but not messaged.
    if errors:
        raise FormError(errors)
    utm = utm_from(values, page_url)
    lead_values = {**data, "consent_email": consent and bool(data.get("email")),
                   "consent_sms": consent and bool(data.get("mobile"))}
    try:
        lead, created = leads.create_or_update_lead(lead_values, "form", utm, form=form)
    except leads.LeadError as exc:
        raise FormError(exc.errors) from exc
    submission = FormSubmission(form_id=form.id, lead_id=lead.id, data={**data,
                                "consent": consent}, utm=utm, page_url=(page_url or "")[:1000])
    db.session.add(submission)
    form.submissions = (form.submissions or 0) + 1
    leads.record_activity(lead, "form", {"form_id": form.id, "form": form.name,
                                         "created": created, **utm})
    db.session.flush()
    return submission
