"""Customer analytics: RFM, Pareto and lifetime value (BG/NBD + Gamma-Gamma).

The math lives in plain modules (``clv``, ``summary``, ``value``, ``rfm``) that take numpy
arrays and know nothing of Flask; ``init_app`` only registers the ``flask crm analytics``
commands.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask crm analytics ...`` (idempotent: the group is added to ``crm`` once)."""
    from core.analytics.cli import analytics_cli
    from core.cli import crm

    if "analytics" not in crm.commands:
        crm.add_command(analytics_cli)
