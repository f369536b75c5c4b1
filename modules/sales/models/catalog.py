"""Sales tables: catalog."""
