"""Accounting-link pages: reconciliation (to be written)."""
