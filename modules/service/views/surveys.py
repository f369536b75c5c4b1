"""Service pages: surveys."""

from modules.service.views import bp  # noqa: F401
