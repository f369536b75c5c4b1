"""Permissions: declared by the core and the manifests, checked by decorators, denied by default."""

from functools import wraps

from flask import abort, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

CORE_PERMISSIONS = {
    "core.dashboard": _l("See the dashboard"),
    "customers.view": _l("View customers"),
    "customers.edit": _l("Create and edit customers"),
    "customers.import": _l("Import and export customers"),
    "customers.merge": _l("Merge and anonymise customers"),
    "analytics.view": _l("View customer analytics"),
    "admin.users": _l("Manage users, roles, teams and seats"),
    "admin.license": _l("Manage the license"),
    "admin.modules": _l("View modules"),
    "admin.settings": _l("Manage deployment settings"),
    "admin.audit": _l("Read the audit log"),
    "admin.outbox": _l("See and retry outgoing deliveries"),
    "api.tokens": _l("Create personal API tokens"),
}

# Endpoints that answer without any permission (login, static files, health, portal sign-in).
PUBLIC = "__public__"
# Endpoints that need a signed-in user but no particular permission (profile, language).
AUTHENTICATED = "__authenticated__"


def has_permission(permission: str) -> bool:
    """Whether the current user's role grants ``permission``."""
    if not current_user.is_authenticated:
        return False
    granted = current_user.role.permissions or []
    return "*" in granted or permission in granted


def _mark(view, permission):
    view._crm_permission = permission
    return view


def require_permission(permission: str):
    """Decorator: only users whose role grants ``permission`` reach the view; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not has_permission(permission):
                from core.audit import record_denial

                record_denial(permission)
                abort(403)
            return view(*args, **kwargs)

        return _mark(wrapped, permission)

    return decorator


def public(view):
    """Mark a view as open to anyone (it must do its own checks)."""
    return _mark(view, PUBLIC)


def authenticated(view):
    """Mark a view as open to any signed-in user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapped, AUTHENTICATED)


def declared_permission(view_func, method: str | None = None) -> str | None:
    """The permission a view declares (for a MethodView, the method's), or None."""
    permission = getattr(view_func, "_crm_permission", None)
    view_class = getattr(view_func, "view_class", None)
    if permission is None and view_class is not None:
        if method is None:
            methods = [m for m in (view_class.methods or ()) if m != "OPTIONS"]
            found = [declared_permission(getattr(view_class, m.lower(), None)) for m in methods]
            return None if not found or None in found else ",".join(found)
        handler = getattr(view_class, method.lower(), None)
        permission = getattr(handler, "_crm_permission", None)
    return permission


def request_permission() -> str | None:
    """The permission the view of this request declares for its method (HEAD and OPTIONS
    count as GET), or None for no view or none declared."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
    return declared_permission(view, method)


EXEMPT_ENDPOINTS = {"static"}


def deny_undeclared():
    """before_request: refuse any endpoint that states no permission (deny by default)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in EXEMPT_ENDPOINTS or endpoint.endswith(".static"):
        return
    if request_permission() is None:
        g.crm_undeclared = endpoint
        abort(403)
