"""Admin pages: the index that links every administration area."""

from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import authenticated, has_permission

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (candidate endpoints, title, description, permission): the first endpoint that exists wins,
# so pages other subsystems add (license, modules, outbox, webhooks) appear once they exist.
CARDS = (
    (("admin.users",), _l("Users"), _l("Invite, edit and deactivate users"), "admin.users"),
    (("admin.roles",), _l("Roles"), _l("Permissions and record scope"), "admin.users"),
    (("admin.teams",), _l("Teams"), _l("Groups of users and their members"), "admin.users"),
    (("admin.seats",), _l("Seats"), _l("Module seats used and licensed"), "admin.users"),
    (("admin.settings",), _l("Settings"), _l("Company profile, display, email and SMS"),
     "admin.settings"),
    (("admin.audit",), _l("Audit log"), _l("Who did what, when and from where"), "admin.audit"),
    (("backups.index",), _l("Backups"), _l("Archives on this server and their schedule"),
     "admin.settings"),
    (("customers.fields",), _l("Customer fields"),
     _l("Your own fields on every customer"), "admin.settings"),
    (("licensing.license", "admin.license"), _l("License"),
     _l("Licensee, expiry, seats, deployment id"), "admin.license"),
    (("licensing.modules", "admin.modules"), _l("Modules"),
     _l("Loaded and active modules and why"), "admin.modules"),
    (("outbox.index", "admin.outbox"), _l("Outbox"),
     _l("Outgoing deliveries and retries"), "admin.outbox"),
    (("webhooks.index", "admin.webhooks"), _l("Webhooks"),
     _l("Events sent to other systems"), "admin.settings"),
    (("api_tokens.index",), _l("API tokens"), _l("Personal tokens for the REST API"),
     "api.tokens"),
)


def admin_cards() -> list[dict]:
    """The cards the current user may open, for pages that exist in this deployment."""
    cards = []
    for endpoints, title, description, permission in CARDS:
        endpoint = next((e for e in endpoints if e in current_app.view_functions), None)
        if endpoint and has_permission(permission):
            cards.append({"endpoint": endpoint, "title": title, "description": description})
    return cards


@bp.route("/")
@authenticated  # any admin permission opens it; the cards say which areas
def index():
    """Administration start page: a card per area the user may open."""
    cards = admin_cards()
    if not cards:
        from core.audit import record_denial

        record_denial("admin.*")
        abort(403)
    return render_template("admin/index.html", cards=cards)


@bp.context_processor
def _pager_url():
    from core.pagination import url_with

    return {"admin_page_url": url_with}
