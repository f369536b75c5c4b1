"""Marketing tables (``marketing_*``), one file per topic; importing this package defines
them all."""

from modules.marketing.models import (  # noqa: F401
    automations,
    campaigns,
    competitors,
    forms,
    leads,
    segments,
)
