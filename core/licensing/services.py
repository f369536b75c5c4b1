"""License rules callable from the admin page and the CLI alike: install, overview."""

import uuid
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import events
from core.audit import record
from core.database import get_setting, set_setting
from core.extensions import db
from core.licensing import crypto
from core.licensing.documents import TEHRAN, LicenseError, read_revocations, verify_license
from core.licensing.models import InstalledLicense, InstalledRevocations
from core.licensing.state import (
    DEPLOYMENT_ID,
    STAMP,
    compute_state,
    current_state,
    forget_state,
    now,
)


@dataclass(frozen=True)
class Installed:
    """What an install did, for the flash message or the CLI."""

    kind: str  # "license" or "revocation-list"
    message: str
    changed: bool = True


def _bump_stamp() -> None:
    """Tell every worker to reload: they compare this stamp on each request."""
    set_setting(STAMP, uuid.uuid4().hex)


def install(text: str | bytes, installed_by: str = "") -> Installed:
    """Verify and install a license or a revocation list; raises ``LicenseError``. Commits."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LicenseError(_("this is not a Peyvand license file (it is not text)")) from exc
    kind = crypto.detect(text)
    if kind == crypto.LICENSE:
        return _install_license(text, installed_by)
    if kind == crypto.REVOCATIONS:
        return _install_revocations(text, installed_by)
    if kind == crypto.CERTIFICATE:
        raise LicenseError(_("this is a reseller certificate, not a license; the reseller uses "
                             "it to issue licenses with 'crm license issue'"))
    raise LicenseError(_("this is not a Peyvand license file: it must start with "
                         "-----BEGIN PEYVAND LICENSE-----"))


def _install_license(text: str, installed_by: str) -> Installed:
    state = compute_state()
    moment = now()
    lic = verify_license(text, root_keys=current_app.config["CRM_LICENSE_ROOT_KEYS"],
                         deployment_id=get_setting(DEPLOYMENT_ID), now=moment,
                         revocations=_current_revocations())
    if lic.grace_until is not None and moment >= lic.grace_until:
        raise LicenseError(_("this license expired on %(date)s; ask your reseller for a "
                             "current one", date=lic.expires_at.astimezone(TEHRAN).date()))
    if state.license is not None and state.license.text == lic.text:
        return Installed(crypto.LICENSE, _("This license is already installed."), False)
    db.session.add(InstalledLicense(license_id=lic.license_id, text=lic.text,
                                    installed_by=installed_by))
    _bump_stamp()
    record("license.install", target=f"license:{lic.license_id}", detail={
        "licensee": lic.licensee["legal_name"], "issuer": lic.issuer, "kind": lic.kind,
        "modules": lic.modules, "expires_at": lic.expires_at and lic.expires_at.isoformat(),
    })
    events.license_changed.send(current_app._get_current_object(), license=lic)
    db.session.commit()
    forget_state()
    return Installed(crypto.LICENSE, _(
        "License installed for %(licensee)s: %(modules)s.", licensee=lic.licensee["legal_name"],
        modules=", ".join(f"{name} ({seats})" for name, seats in lic.modules.items())))


def _current_revocations():
    from core.licensing.documents import Revocations

    newest = db.session.execute(
        select(InstalledRevocations.text).order_by(InstalledRevocations.sequence.desc()).limit(1)
    ).scalar()
    if newest is None:
        return Revocations()
    return read_revocations(newest, current_app.config["CRM_LICENSE_ROOT_KEYS"])


def _install_revocations(text: str, installed_by: str) -> Installed:
    revocations = read_revocations(text, current_app.config["CRM_LICENSE_ROOT_KEYS"])
    latest = db.session.execute(
        select(InstalledRevocations.sequence).order_by(InstalledRevocations.sequence.desc())
    ).scalar()
    if latest is not None and revocations.sequence <= latest:
        if revocations.sequence == latest:
            return Installed(crypto.REVOCATIONS,
                             _("This revocation list is already installed."), False)
        raise LicenseError(_("this revocation list (number %(new)d) is older than the one "
                             "installed (number %(old)d)", new=revocations.sequence, old=latest))
    db.session.add(InstalledRevocations(sequence=revocations.sequence, text=text,
                                        installed_by=installed_by))
    _bump_stamp()
    record("license.revocations", target=f"revocations:{revocations.sequence}", detail={
        "licenses": sorted(revocations.licenses), "resellers": sorted(revocations.resellers)})
    events.license_changed.send(current_app._get_current_object(), revocations=revocations)
    db.session.commit()
    forget_state()
    return Installed(crypto.REVOCATIONS, _(
        "Revocation list number %(n)d installed (%(licenses)d licenses, %(resellers)d "
        "resellers).", n=revocations.sequence, licenses=len(revocations.licenses),
        resellers=len(revocations.resellers)))


def module_rows() -> list[dict]:
    """Every installed module: manifest facts, activation and seats used/licensed."""
    from core.admin.services import seats_used
    from core.modules import registry

    reg = registry()
    state = current_state()
    activation = reg.activation()
    rows = []
    for name, manifest in reg.installed.items():
        act = activation[name]
        rows.append({
            "name": name, "title": str(manifest.title), "version": manifest.version,
            "loaded": act.loaded, "active": act.active, "reason": act.reason,
            "depends": list(manifest.depends), "uses": list(manifest.uses),
            "seats_used": seats_used(name), "seats_licensed": state.seats_for(name),
        })
    return rows


def overview() -> dict:
    """The license page and ``crm license show`` in one plain dict (JSON-ready)."""
    state = current_state()
    lic = state.license

    def when(moment):
        return moment.isoformat() if moment else None

    return {
        "kind": state.kind, "stage": state.stage, "read_only": state.read_only,
        "reason": state.reason, "notice": state.notice,
        "deployment_id": state.deployment_id,
        "license_id": lic.license_id if lic else None,
        "licensee": lic.licensee if lic else None,
        "issuer": ({"id": lic.certificate.reseller_id, "name": lic.certificate.name}
                   if lic else None),
        "expires_at": when(state.expires_at), "grace_until": when(state.grace_until),
        "updates_until": when(lic.updates_until) if lic else None,
        "days_left": state.days_left,
        "modules": {row["name"]: {"licensed": row["seats_licensed"], "used": row["seats_used"],
                                  "active": row["active"], "reason": row["reason"]}
                    for row in module_rows()},
    }
