"""Safe personalisation of campaign texts: ``{{ first_name }}``, ``{{ city|default("...") }}``.

Templates run in Jinja's sandbox with only the customer's plain fields in the context. A field
that is missing or empty renders as empty text (or its ``default``), never an error, so one odd
customer cannot break a send; a template that does not parse is refused when it is saved.
"""

import re

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.filters import do_default
from jinja2.sandbox import SandboxedEnvironment


def _default(value, default_value="", boolean=True):
    """Like Jinja's ``default``, but an empty field also takes the default."""
    return do_default(value, default_value, boolean)


class _Blank(ChainableUndefined):
    """A missing field: empty text, and so are its attributes, items and method calls."""

    def __call__(self, *args, **kwargs):
        return self


_env = SandboxedEnvironment(undefined=_Blank, autoescape=False)
_html_env = SandboxedEnvironment(undefined=_Blank, autoescape=True)
_TAGS = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
for _e in (_env, _html_env):
    _e.filters["default"] = _e.filters["d"] = _default

FIELDS = ("first_name", "last_name", "display_name", "city", "company", "email", "mobile")


class PersonaliseError(ValueError):
    """The template cannot be used; the message says where."""


def check(template: str) -> None:
    """Refuse a template that does not parse (at save time, with the line)."""
    try:
        _env.parse(template or "")
    except TemplateSyntaxError as error:
        raise PersonaliseError(f"{error.message} (line {error.lineno})") from error


def context_for(customer) -> dict:
    """The fields a template may use, from a customer (plain strings only)."""
    if customer is None:
        return {}
    contacts = {c.kind: c.value for c in getattr(customer, "contacts", ()) if c.primary}
    for contact in getattr(customer, "contacts", ()):
        contacts.setdefault(contact.kind, contact.value)
    city = ""
    for address in getattr(customer, "addresses", ()) or ():
        city = address.city or city
    return {"first_name": customer.first_name or "", "last_name": customer.last_name or "",
            "display_name": customer.display_name or "", "city": city,
            "company": customer.legal_name or "", "email": contacts.get("email", ""),
            "mobile": contacts.get("mobile", "")}


def render(template: str, context: dict, *, html: bool = False) -> str:
    """``template`` filled from ``context``; on any runtime error the text without fields."""
    env = _html_env if html else _env
    try:
        return env.from_string(template or "").render(**context)
    except Exception:  # noqa: BLE001 - a send must never fail on a template
        return _TAGS.sub("", template or "")
