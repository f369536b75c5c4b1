"""Marketing pages: forms."""

from modules.marketing.views import bp  # noqa: F401
