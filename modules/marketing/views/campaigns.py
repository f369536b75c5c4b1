"""Marketing pages: campaigns."""

from modules.marketing.views import bp  # noqa: F401
