"""Marketing pages: automations."""

from modules.marketing.views import bp  # noqa: F401
