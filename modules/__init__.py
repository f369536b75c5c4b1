"""Installed modules. Each subpackage holds a ``MANIFEST`` and a ``register(app)``."""
