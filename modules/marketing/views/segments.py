"""Marketing pages: segments."""

from modules.marketing.views import bp  # noqa: F401
