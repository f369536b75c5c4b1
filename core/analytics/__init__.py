"""Customer analytics: the purchases fact, RFM, Pareto and lifetime value (BG/NBD + Gamma-Gamma).

The math lives in plain modules (``clv``, ``summary``, ``value``, ``rfm``) that take numpy
arrays and know nothing of Flask. ``models`` holds the purchases fact and the per-customer
scores, ``sql`` computes them from the database, ``jobs`` recomputes them nightly and on
demand, ``views`` and ``api`` show and feed them.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the tables, the purchase listener, views, API, widget, nightly job and CLI.

    Idempotent for what is process-wide (the ``crm analytics`` group, the signal listener,
    the periodic job); per app for the blueprints and the widget.
    """
    from core import jobs
    from core.analytics import (
        history_views,  # noqa: F401 - routes on the analytics bp
        models,  # noqa: F401 - core_purchase, core_customer_score
    )
    from core.analytics.api import bp as api_bp
    from core.analytics.cli import analytics_cli, import_purchases_command
    from core.analytics.demo import load_purchases
    from core.analytics.jobs import nightly_recompute
    from core.analytics.services import on_purchase_recorded
    from core.analytics.timeline import init_app as init_timeline
    from core.analytics.views import bp, render_widget
    from core.cli import crm, import_cli
    from core.demo import add_demo_step
    from core.events import purchase_recorded
    from core.extensions import api
    from core.modules import MenuEntry
    from core.ui import Widget, add_core_menu, add_widget

    if "analytics" not in crm.commands:
        crm.add_command(analytics_cli)
        import_cli.add_command(import_purchases_command)
    purchase_recorded.connect(on_purchase_recorded)
    jobs.periodic("analytics.recompute", 24 * 3600, nightly_recompute)
    if "analytics" not in app.blueprints:
        app.register_blueprint(bp)
        api.register_blueprint(api_bp, app=app)
        add_core_menu(app, MenuEntry("analytics.dashboard", _l("Analytics"), icon="graph-up",
                                     permission="analytics.view", main=True))
        add_widget(app, Widget("core", _l("Customer segments"), render_widget,
                               permission="analytics.view", order=50))
        init_timeline(app)
        add_demo_step(app, "purchases", load_purchases, order=90)
