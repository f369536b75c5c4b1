"""Sales tables: pipeline."""
