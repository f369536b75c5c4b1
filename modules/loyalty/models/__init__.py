"""Customer-club tables (``loyalty_*``), one file per topic; importing this package defines
them all."""

from modules.loyalty.models import ledger, members, rewards, rules, tiers  # noqa: F401
