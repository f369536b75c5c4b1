"""Peyvand core: the application factory."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, Config, from_deployment_file, from_environment


def create_app(config=None, **overrides) -> Flask:
    """Build the app: core services first, then the deployment's modules."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config or Config)
    if config is None:
        app.config.update(from_deployment_file())  # `crm deploy` writes it; env vars win
        app.config.update(from_environment())
    app.config.update(overrides)
    hops = int(app.config.get("CRM_PROXY_HOPS") or 0)
    if hops:  # trust X-Forwarded-* from that many proxies only; 0: a forged header changes nothing
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from core import (
        admin,
        analytics,
        api,
        audit,
        auth,
        backup,
        cli,
        customers,
        database,
        events,
        i18n,
        jobs,
        licensing,
        logs,
        messaging,
        modules,
        outbox,
        portal,
        security,
        ui,
        webhooks,
    )

    logs.init_app(app)  # first: every later hook's log lines carry the request id
    database.init_app(app)  # first: everything else stores things
    i18n.init_app(app)
    security.init_app(app)  # secret key, CSRF, rate limits, headers
    auth.init_app(app)  # login, permission gate (deny by default)
    audit.init_app(app)
    licensing.init_app(app)  # after auth: the read-only gate knows who asks
    events.init_app(app)
    jobs.init_app(app)
    outbox.init_app(app)
    messaging.init_app(app)
    api.init_app(app)  # before modules: they add their API blueprints to it
    webhooks.init_app(app)
    admin.init_app(app)
    customers.init_app(app)
    ui.init_app(app)
    cli.init_app(app)
    backup.init_app(app)  # after cli: `crm backup`/`crm restore`; the scheduled backup job
    analytics.init_app(app)
    portal.init_app(app)  # before modules: they add their pages to the customer portal
    modules.init_app(app)  # last: modules register views, API, listeners and jobs on the core
    return app
