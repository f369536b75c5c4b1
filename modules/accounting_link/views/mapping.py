"""Accounting-link pages: mapping (to be written)."""
