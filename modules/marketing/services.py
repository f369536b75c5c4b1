"""What other modules may ask of marketing (only through this file)."""

from modules.marketing.segment_fields import register_field  # noqa: F401 - for other modules
