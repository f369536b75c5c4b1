"""Service pages: tickets."""

from modules.service.views import bp  # noqa: F401
