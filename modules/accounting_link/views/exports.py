"""Accounting-link pages: exports (to be written)."""
