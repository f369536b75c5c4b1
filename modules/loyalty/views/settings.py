"""Customer-club pages: settings (to be written)."""
