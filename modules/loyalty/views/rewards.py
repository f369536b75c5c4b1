"""Customer-club pages: rewards (to be written)."""
