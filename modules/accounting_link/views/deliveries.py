"""Accounting-link pages: deliveries (to be written)."""
