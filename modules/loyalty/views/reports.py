"""Customer-club pages: reports (to be written)."""
