"""`crm demo` (placeholder while it is being written)."""
