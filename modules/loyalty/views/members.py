"""Customer-club pages: members (to be written)."""
