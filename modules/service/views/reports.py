"""Service pages: reports."""

from modules.service.views import bp  # noqa: F401
