"""Marketing pages: leads."""

from modules.marketing.views import bp  # noqa: F401
