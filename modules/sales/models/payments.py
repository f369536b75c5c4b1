"""Sales tables: payments."""
