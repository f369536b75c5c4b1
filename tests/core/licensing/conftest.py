"""Licensing fixtures: our own vendor root key, a movable clock, installing documents."""

import pytest

from tests.core.licensing.helpers import BASE, ROOT_PUBLIC, Clock


@pytest.fixture
def app_overrides():
    return {"CRM_LICENSE_ROOT_KEYS": [ROOT_PUBLIC]}


@pytest.fixture
def clock(app):
    """Pin licensing's clock to BASE and start the trial there too."""
    from core.database import set_setting
    from core.extensions import db

    tick = Clock(BASE)
    app.config["CRM_NOW"] = tick
    with app.app_context():
        set_setting("deployment.initialised_at", BASE.isoformat())
        db.session.commit()
    return tick


@pytest.fixture
def deployment_id(app):
    from core.bootstrap import deployment_id as current

    with app.app_context():
        return current()


@pytest.fixture
def install(app):
    """Install a license text through the service, as the CLI and the upload page do."""
    from core.licensing.services import install as do_install

    def run(text):
        with app.app_context():
            return do_install(text, installed_by="test")

    return run
