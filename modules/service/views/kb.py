"""Service pages: kb."""

from modules.service.views import bp  # noqa: F401
