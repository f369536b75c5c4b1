"""Marketing module.

Segments (rules and RFM), email and SMS campaigns, lead capture forms, leads and scoring,
attribution.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="marketing",
    title=_l("Marketing"),
    version="0.1.0",
    description=_l(
        "Segments (rules and RFM), email and SMS campaigns, lead capture forms, leads and"
        " scoring, attribution."
    ),
    depends=(),
    uses=('sales',),
    permissions={
        "marketing.view": _l("View marketing"),
        "marketing.manage": _l("Manage segments and campaigns"),
        "marketing.work": _l("Work on leads"),
    },
    menu=(
        MenuEntry(
            "marketing.index", _l("Marketing"), icon="megaphone", permission="marketing.view"
        ),
    ),
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.marketing import views

    app.register_blueprint(views.bp)
