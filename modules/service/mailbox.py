"""Support mailbox settings (IMAP server, folder, support address) and their page.

Stored as deployment settings ``service.mailbox.*`` the way core keeps ``smtp.*``
(``core.database.get_setting``); the password is never sent back to the browser.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Length, Optional

from core.auth.permissions import require_permission
from core.database import get_setting, set_setting
from core.extensions import db
from core.i18n import to_latin_digits

PREFIX = "service.mailbox."
SECURITY = ("ssl", "starttls", "none")
EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


@dataclass(frozen=True)
class MailboxSettings:
    """Where the support mailbox is and how to sign in to it."""

    host: str = ""
    port: int = 993
    security: str = "ssl"  # "ssl", "starttls" or "none"
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    address: str = ""  # the support address customers write to
    acknowledge: bool = True  # answer new email tickets with their reference

    @property
    def configured(self) -> bool:
        return bool(self.host and self.username)


def default_port(security: str) -> int:
    return 993 if security == "ssl" else 143


def mailbox_settings() -> MailboxSettings:
    """The mailbox settings in force now."""
    security = get_setting(PREFIX + "security") or "ssl"
    return MailboxSettings(
        host=get_setting(PREFIX + "host") or "",
        port=int(get_setting(PREFIX + "port") or default_port(security)),
        security=security, username=get_setting(PREFIX + "username") or "",
        password=get_setting(PREFIX + "password") or "",
        folder=get_setting(PREFIX + "folder") or "INBOX",
        address=get_setting(PREFIX + "address") or "",
        acknowledge=get_setting(PREFIX + "acknowledge", True) is not False)


def clean(values: dict) -> tuple[dict, dict[str, str]]:
    """Checked values by field name, and the reason for each wrong one."""
    cleaned, errors = {}, {}
    for name in ("host", "username", "folder", "password"):
        if name in values:
            cleaned[name] = str(values[name] or "").strip()
    if values.get("security") not in SECURITY:
        errors["security"] = _("Choose SSL/TLS, STARTTLS or none.")
    else:
        cleaned["security"] = values["security"]
    port = to_latin_digits(str(values.get("port") or "")).strip()
    if port:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            errors["port"] = _("%(value)s is not a port number (1 to 65535).", value=port)
        else:
            cleaned["port"] = int(port)
    else:
        cleaned["port"] = None
    address = str(values.get("address") or "").strip().lower()
    if address and not EMAIL.fullmatch(address):
        errors["address"] = _("%(value)s is not an email address.", value=address)
    cleaned["address"] = address
    cleaned["folder"] = cleaned.get("folder") or "INBOX"
    if cleaned.get("host") and not cleaned.get("username"):
        errors["username"] = _("Give the user name of the mailbox.")
    cleaned["acknowledge"] = bool(values.get("acknowledge"))
    return cleaned, errors


def save(cleaned: dict) -> bool:
    """Store checked values (the caller commits); returns whether anything changed."""
    return any([set_setting(PREFIX + key, value) for key, value in cleaned.items()])


class MailboxForm(FlaskForm):
    host = StringField(_l("IMAP server"), validators=[Length(max=200)])
    port = StringField(_l("IMAP port"), validators=[Length(max=10)],
                       description=_l("Empty: 993 for SSL/TLS, 143 otherwise."))
    security = SelectField(_l("Security"), choices=[
        ("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", _l("None"))])
    username = StringField(_l("User name"), validators=[Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=500)],
                             description=_l("Leave empty to keep the stored password."))
    clear_password = BooleanField(_l("Remove the stored password"))
    folder = StringField(_l("Folder"), validators=[Length(max=200)])
    address = StringField(_l("Support address"), validators=[Length(max=200)],
                          description=_l("The address customers write to; replies come back "
                                         "to it."))
    acknowledge = BooleanField(_l("Answer each new email ticket with its reference"))


def recent_mails(limit: int = 20) -> list:
    """The latest mails read from the mailbox and what became of them."""
    from modules.service.models.tickets import InboundMail

    return list(db.session.execute(select(InboundMail).order_by(
        InboundMail.received_at.desc(), InboundMail.id.desc()).limit(limit)).scalars())


OUTCOME_LABELS = {"new": _l("New ticket"), "reply": _l("Added to its ticket"),
                  "auto": _l("Automatic mail, ignored"), "loop": _l("Our own mail, ignored"),
                  "refused": _l("Refused"), "too_large": _l("Too large, not read"),
                  "error": _l("Could not be read")}


@require_permission("service.manage")
def mailbox_page():
    """The support mailbox settings, the last poll and the latest mails."""
    current = mailbox_settings()
    form = MailboxForm(data={**current.__dict__, "port": get_setting(PREFIX + "port") or ""})
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in (
            "host", "port", "security", "username", "folder", "address", "acknowledge")}
        if form.clear_password.data:
            values["password"] = ""  # nosec B105  # clears it
        elif form.password.data:
            values["password"] = form.password.data
        cleaned, errors = clean(values)
        if not errors:
            changed = save(cleaned)
            db.session.commit()
            flash(_("Mailbox settings saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("service.mailbox"))
        for name, message in errors.items():
            getattr(form, name).errors = [message]
        flash(_("Some settings are wrong; see the marked fields."), "danger")
    form.password.data = ""  # never echo a password back
    status = get_setting(PREFIX + "status") or {}
    last_at = datetime.fromisoformat(status["at"]) if status.get("at") else None
    return render_template(
        "service/mailbox.html", form=form, settings=current, mails=recent_mails(),
        outcomes=OUTCOME_LABELS, status=status, last_at=last_at, ticket_url=_ticket_url,
        has_password=bool(current.password)), 422 if errors else 200


def _ticket_url(ticket_id: int) -> str | None:
    """The ticket page, when the ticket views are there."""
    for arg in ("ticket_id", "id"):
        try:
            return url_for("service.ticket", **{arg: ticket_id})
        except BuildError:
            continue
    return None


@require_permission("service.manage")
def mailbox_poll():
    """Read the mailbox now (what the periodic job does)."""
    from modules.service.mail_poll import poll

    result = poll()
    if result.error:
        flash(_("The mailbox could not be read: %(error)s", error=result.error), "danger")
    else:
        flash(_("Mailbox read: %(new)d new tickets, %(reply)d replies, %(other)d other mails.",
                new=result.counts.get("new", 0), reply=result.counts.get("reply", 0),
                other=result.total - result.counts.get("new", 0) - result.counts.get("reply", 0)),
              "success")
    return redirect(url_for("service.mailbox"))


def register(app) -> None:
    """The page lives in the ``service`` blueprint's name space (``service.mailbox``)."""
    if "service.mailbox" in app.view_functions:
        return
    app.add_url_rule("/service/mailbox", endpoint="service.mailbox", view_func=mailbox_page,
                     methods=["GET", "POST"])
    app.add_url_rule("/service/mailbox/poll", endpoint="service.mailbox_poll",
                     view_func=mailbox_poll, methods=["POST"])
