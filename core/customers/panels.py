"""Cards that modules add to the side column of the customer 360 page.

    def provider(customer) -> Markup | None: ...       # checks its own permissions
    add_panel_provider(app, provider, module="sales")  # in a module's register(app)

Panels of a module that is not active, or in which the user has no seat, are left out, as
are providers that return nothing.
"""

from collections.abc import Callable

from flask import Flask, current_app
from markupsafe import Markup

KEY = "crm_customer_panels"


def add_panel_provider(app: Flask, provider: Callable[..., Markup | None],
                       module: str | None = None) -> None:
    """Register ``provider(customer)``; ``module`` defaults to the provider's module package
    (``modules.sales.rules`` → ``sales``; anything outside ``modules`` is ``core``)."""
    if module is None:
        parts = provider.__module__.split(".")
        module = parts[1] if parts[0] == "modules" and len(parts) > 1 else "core"
    app.extensions.setdefault(KEY, []).append((module, provider))


def panels_for(customer) -> list[Markup]:
    """The cards of every module the user works in, in registration order."""
    from flask_login import current_user

    from core.modules import is_active

    seats = set(getattr(current_user, "seat_modules", ()) or ())
    panels = []
    for module, provider in current_app.extensions.get(KEY, []):
        if module != "core" and not (is_active(module) and module in seats):
            continue
        panel = provider(customer)
        if panel:
            panels.append(Markup(panel))
    return panels
