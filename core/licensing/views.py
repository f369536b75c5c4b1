"""Admin pages: the license (with upload) and the modules with their state and seats."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from core.auth.permissions import require_permission
from core.licensing.crypto import DocumentError
from core.licensing.gate import format_date
from core.licensing.services import install, module_rows, overview
from core.licensing.state import current_state

bp = Blueprint("licensing", __name__, url_prefix="/admin")
MAX_FILE = 256 * 1024


class UploadForm(FlaskForm):
    """Upload a license file (or a vendor revocation list)."""

    file = FileField(_l("License file"), validators=[FileRequired(_l("Choose a license file."))])


def _render_license(form: UploadForm, status: int = 200):
    info = overview()
    state = current_state()
    dates = {key: format_date(getattr(state, key)) for key in ("expires_at", "grace_until")}
    if state.license is not None:
        dates["updates_until"] = format_date(state.license.updates_until)
    rows = [row for row in module_rows() if row["loaded"]]
    return render_template("licensing/license.html", info=info, state=state, dates=dates,
                           rows=rows, form=form), status


@bp.route("/license")
@require_permission("admin.license")
def license():
    """The license in force, seats per module, the deployment id and the upload form."""
    return _render_license(UploadForm())


@bp.route("/license/upload", methods=["POST"])
@require_permission("admin.license")
def upload():
    """Install an uploaded license file; works in read-only mode too."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_license(form, 400)
    data = form.file.data.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        form.file.errors.append(_("This file is too large to be a license."))
        return _render_license(form, 400)
    try:
        result = install(data, installed_by=current_user.email)
    except DocumentError as exc:
        form.file.errors.append(_("The license was refused: %(reason)s", reason=str(exc)))
        return _render_license(form, 422)
    flash(result.message, "success" if result.changed else "info")
    return redirect(url_for("licensing.license"))


@bp.route("/modules")
@require_permission("admin.modules")
def modules():
    """Each installed module: version, loaded, active or why not, dependencies, seats."""
    return render_template("licensing/modules.html", rows=module_rows())
