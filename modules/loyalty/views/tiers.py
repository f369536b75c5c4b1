"""Customer-club pages: tiers (to be written)."""
