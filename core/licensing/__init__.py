"""Offline licensing (skeleton: trial only; the licensing work replaces this)."""

from dataclasses import dataclass

from flask import Flask


@dataclass
class LicenseState:
    """The license in force right now, as every request sees it."""

    kind: str = "trial"
    read_only: bool = False

    def module_refusal(self, name: str) -> str:
        """Why module ``name`` is not licensed now, or "" when it is."""
        return ""

    def seats_for(self, name: str) -> int:
        return 3


def current_state() -> LicenseState:
    return LicenseState()


def init_app(app: Flask) -> None:
    pass
