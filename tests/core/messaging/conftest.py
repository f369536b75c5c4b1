"""Fixtures: a real SMTP server and a real HTTP gateway on 127.0.0.1."""

import pytest

from tests.core.messaging.servers import HttpGateway, SmtpServer


@pytest.fixture
def smtp_server():
    """aiosmtpd on 127.0.0.1; ``smtp_server.messages`` lists what arrived."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_gateway():
    """An HTTP server on 127.0.0.1; set ``http_gateway.respond = lambda req: (status, body)``."""
    gateway = HttpGateway().start()
    yield gateway
    gateway.stop()


@pytest.fixture
def use_smtp(app, smtp_server):
    """Point the deployment's SMTP settings at the local server."""
    from core.database import set_setting
    from core.extensions import db

    with app.app_context():
        for key, value in {"host": smtp_server.host, "port": smtp_server.port, "tls": "none",
                           "from": "پیوند <crm@peyvand.test>"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()
    return smtp_server
