"""Journeys run with the licensing tests' own vendor key and movable clock."""

from tests.core.licensing.conftest import app_overrides, clock  # noqa: F401 - fixtures
