"""Service pages: sla."""

from modules.service.views import bp  # noqa: F401
