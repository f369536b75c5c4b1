"""Sales tables: documents."""
