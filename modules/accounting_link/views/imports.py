"""Accounting-link pages: imports (to be written)."""
