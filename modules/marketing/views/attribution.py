"""Marketing pages: attribution."""

from modules.marketing.views import bp  # noqa: F401
