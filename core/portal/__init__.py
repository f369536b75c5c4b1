"""Customer portal shell: sign-in with a one-time code, the layout, and pages modules add.

Portal visitors are customers, not users: the signed-in customer's id lives in the Flask
session (``portal_customer_id``), never in Flask-Login, so they never take a seat. Modules add
their pages from ``register(app)``::

    from core.portal import add_portal_page, portal_required

    @bp.route("/tickets")
    @portal_required                 # public for the permission gate; checks the customer
    def tickets(): customer = current_customer(); ...

    add_portal_page(app, "service_portal.tickets", _l("My tickets"), icon="headset",
                    also=("service_portal.ticket",))

A page shows in the portal menu (and as a card on the portal home) only while the module
that owns its blueprint is active. Pages so far: service (tickets, help articles) and sales
(quotes, invoices). The customer club's points page belongs to the loyalty module: its
``register(app)`` adds a ``loyalty_portal`` blueprint under ``/portal/club`` and calls
``add_portal_page(app, "loyalty_portal.points", _l("My club points"), icon="gift")``;
nothing in the core changes for it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, g, redirect, request, session, url_for

from core.auth.permissions import public

SESSION_KEY = "portal_customer_id"


@dataclass(frozen=True)
class PortalPage:
    """An entry of the portal menu (and a card on the portal home)."""

    endpoint: str
    label: str
    icon: str = ""
    position: int = 100
    also: tuple[str, ...] = ()  # other endpoints on which this entry shows as the current one

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint == self.endpoint or endpoint in self.also


def add_portal_page(app: Flask, endpoint: str, label, icon: str = "", position: int = 100,
                    also: tuple[str, ...] = ()) -> None:
    """Add a page to the portal menu; it shows while its module is active."""
    pages = app.extensions.setdefault("crm_portal_pages", [])
    pages.append(PortalPage(endpoint, label, icon, position, tuple(also)))
    pages.sort(key=lambda p: p.position)


def portal_pages() -> list[PortalPage]:
    """The portal menu: pages whose module (if any) is active."""
    from core.modules import is_active, registry

    owners = registry().blueprint_module
    return [p for p in current_app.extensions.get("crm_portal_pages", [])
            if (owner := owners.get(p.endpoint.split(".")[0])) is None or is_active(owner)]


def current_customer():
    """The customer signed in to the portal, or None."""
    from core.customers.models import Customer
    from core.extensions import db

    customer_id = session.get(SESSION_KEY)
    cached = g.get("portal_customer")
    if cached is not None and cached[0] == customer_id:  # once per request
        return cached[1]
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is not None and customer.anonymised_at is not None:
        customer = None
    g.portal_customer = (customer_id, customer)
    return customer


def portal_required(view: Callable) -> Callable:
    """Decorator: only a signed-in portal customer reaches the view (others go to sign-in)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_customer() is None:
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("portal.sign_in", next=target))
        return view(*args, **kwargs)

    return public(wrapped)


def init_app(app: Flask) -> None:
    from core import jobs
    from core.portal import codes, models, views  # noqa: F401 - the code table

    app.config.setdefault("CRM_PORTAL_LIMIT_IP", "10 per 10 minutes")
    app.config.setdefault("CRM_PORTAL_LIMIT_DESTINATION", "3 per 10 minutes")
    app.config.setdefault("CRM_PORTAL_LIMIT_CODE", "30 per 10 minutes")
    app.register_blueprint(views.bp)
    jobs.periodic("portal.purge_codes", 3600, codes.purge_codes)
    app.jinja_env.globals.update(portal_pages=portal_pages, portal_customer=current_customer)
