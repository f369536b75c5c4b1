"""Accounting-link pages: moadian (to be written)."""
