"""The shell every page shares: dashboard with module widgets, health check, error pages."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from core.auth.permissions import has_permission, public, require_permission
from core.extensions import db

bp = Blueprint("ui", __name__)


@dataclass(frozen=True)
class Widget:
    """A dashboard card a module contributes: ``render()`` returns its HTML."""

    module: str
    title: str
    render: Callable[[], str]
    permission: str | None = None
    order: int = 100


def add_widget(app: Flask, widget: Widget) -> None:
    """Register a dashboard widget (called from a module's ``register(app)``)."""
    app.extensions.setdefault("crm_widgets", []).append(widget)


def visible_widgets() -> list[Widget]:
    """Core widgets and those of active modules the user has a seat in, if permitted."""
    from flask_login import current_user

    from core.modules import is_active

    widgets = current_app.extensions.get("crm_widgets", [])
    seats = set(getattr(current_user, "seat_modules", ()) or ())
    return sorted(
        (w for w in widgets
         if (w.module == "core" or (is_active(w.module) and w.module in seats))
         and (w.permission is None or has_permission(w.permission))),
        key=lambda w: w.order,
    )


@bp.route("/")
@require_permission("core.dashboard")
def dashboard():
    """The signed-in user's start page: one card per widget of the active modules."""
    return render_template("core/dashboard.html", widgets=visible_widgets())


@bp.route("/healthz")
@public
def healthz():
    """Database and queue status for load balancers and monitoring."""
    status = {"database": "ok", "queue": "inline"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report any database failure as unhealthy
        status["database"] = f"error: {exc.__class__.__name__}"
        code = 503
    from core import jobs

    queue = getattr(jobs, "queue_status", None)
    if queue is not None:
        status["queue"] = queue()
        if status["queue"].startswith("error"):
            code = 503
    status["status"] = "ok" if code == 200 else "error"
    return jsonify(status), code


def _error_page(code: int, title: str, message: str):
    def handler(_error):
        # a message given to abort(code, "...") says more than the generic one
        described = getattr(_error, "description", None)
        specific = (code != 429 and described
                    and described != getattr(type(_error), "description", None))
        text = described if specific else message
        if request.path.startswith("/api/"):
            from core.api.problems import problem_from_exception

            return problem_from_exception(_error)
        return render_template("errors/error.html", code=code, title=title, message=text), code

    return handler


def add_core_menu(app: Flask, entry) -> None:
    """Add a core menu entry (a ``MenuEntry``) shown when the user has its permission."""
    app.extensions.setdefault("crm_core_menu", []).append(entry)


def add_banner_provider(app: Flask, provider: Callable[[], list["Banner"]]) -> None:
    """Register a callable that returns banners to show on every page (license expiry...)."""
    app.extensions.setdefault("crm_banner_providers", []).append(provider)


@dataclass(frozen=True)
class Banner:
    kind: str
    level: str  # bootstrap alert level: info, warning, danger
    message: str


def core_menu():
    from flask_login import current_user

    if not current_user.is_authenticated:
        return []
    return [e for e in current_app.extensions.get("crm_core_menu", [])
            if e.permission is None or has_permission(e.permission)]


def banners() -> list[Banner]:
    found = []
    for provider in current_app.extensions.get("crm_banner_providers", []):
        found.extend(provider())
    return found


def link_prefix(endpoint: str, key: str) -> str:
    """The URL of ``endpoint`` up to its record id ``key``: ``prefix + str(id)`` is the record's
    link. Lists build their row links from it once instead of a ``url_for`` per row."""
    url = url_for(endpoint, **{key: 0})
    if not url.endswith("/0"):
        raise ValueError(f"{endpoint}'s URL does not end with its {key}")
    return url.removesuffix("0")


def row_urls(endpoint: str, key: str, ids) -> dict[int, str]:
    """The link of each record id, the route built once."""
    prefix = link_prefix(endpoint, key)
    return {record_id: f"{prefix}{record_id}" for record_id in ids}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    from core.pagination import url_with

    app.jinja_env.globals.update(crm_core_menu=core_menu, crm_banners=banners,
                                 crm_url_with=url_with, crm_can=has_permission,
                                 crm_link_prefix=link_prefix,
                                 crm_view_functions=lambda: current_app.view_functions)
    for code, title, message in (
        (400, _l("Bad request"), _l("The request could not be understood.")),
        (403, _l("Not allowed"), _l("You do not have permission to open this page.")),
        (404, _l("Not found"), _l("There is nothing at this address.")),
        (405, _l("Not allowed"), _l("This address does not accept that kind of request.")),
        (413, _l("Too large"), _l("The file is larger than allowed.")),
        (429, _l("Too many requests"),
         _l("Too many attempts. Please wait a moment and try again.")),
        (500, _l("Server error"), _l("Something went wrong on our side. It has been logged.")),
    ):
        app.register_error_handler(code, _translated_error(code, title, message))


def _translated_error(code, title, message):
    def handler(error):
        return _error_page(code, str(title), str(message))(error)

    return handler
