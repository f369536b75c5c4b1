"""Accounting-link pages: journal (to be written)."""
