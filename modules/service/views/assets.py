"""Service pages: assets."""

from modules.service.views import bp  # noqa: F401
