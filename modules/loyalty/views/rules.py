"""Customer-club pages: rules (to be written)."""
