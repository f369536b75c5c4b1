"""Buttons that modules add to the customer 360 page ("New deal", "New quote", ...).

    def provider(customer) -> list[CustomerAction]: ...    # checks its own permissions
    add_action_provider(app, provider)                     # in a module's register(app)

Actions of a module that is not active, or in which the user has no seat, are left out.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

KEY = "crm_customer_actions"


@dataclass(frozen=True)
class CustomerAction:
    """A link in the 360 page's header."""

    label: str
    url: str
    icon: str = "plus-lg"
    module: str = "core"


def add_action_provider(app: Flask, provider: Callable[..., list[CustomerAction]]) -> None:
    """Register ``provider(customer)``, which returns the actions the current user may take."""
    app.extensions.setdefault(KEY, []).append(provider)


def actions_for(customer) -> list[CustomerAction]:
    """The actions of every module the user works in, in registration order."""
    from flask_login import current_user

    from core.modules import is_active

    seats = set(getattr(current_user, "seat_modules", ()) or ())
    return [action for provider in current_app.extensions.get(KEY, [])
            for action in provider(customer) or ()
            if action.module == "core" or (is_active(action.module) and action.module in seats)]
