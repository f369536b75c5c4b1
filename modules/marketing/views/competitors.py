"""Marketing pages: competitors."""

from modules.marketing.views import bp  # noqa: F401
