"""CRM_PROXY_HOPS: X-Forwarded-* is believed from that many proxies, and never when it is 0."""

import pytest

from config import TestConfig
from core import create_app

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "crm.example.ir", "X-Forwarded-Port": "443"}


def _probe_app(database_uri, hops: int):
    from flask import jsonify, request

    from core.auth.permissions import public
    from core.extensions import db

    uri, options = database_uri
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_PROXY_HOPS=hops)

    @public
    def probe():
        return jsonify(remote_addr=request.remote_addr, secure=request.is_secure,
                       host=request.host, url=request.url_root)

    app.add_url_rule("/_probe", "probe", probe)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def probe(database_uri):
    def get(hops: int, headers: dict) -> dict:
        client = _probe_app(database_uri, hops).test_client()
        return client.get("/_probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}
                          ).get_json()

    return get


def test_one_hop_follows_the_proxy_headers(probe):
    seen = probe(1, FORWARDED)
    assert seen == {"remote_addr": "203.0.113.7", "secure": True, "host": "crm.example.ir",
                    "url": "https://crm.example.ir/"}


def test_one_hop_takes_only_the_address_the_proxy_added(probe):
    forged = {**FORWARDED, "X-Forwarded-For": "1.2.3.4, 203.0.113.7"}
    assert probe(1, forged)["remote_addr"] == "203.0.113.7"


def test_without_hops_forwarded_headers_are_ignored(probe):
    seen = probe(0, FORWARDED)
    assert seen == {"remote_addr": "10.0.0.2", "secure": False, "host": "localhost",
                    "url": "http://localhost/"}


def test_a_forged_header_cannot_dodge_the_login_rate_limit(database_uri):
    from core.extensions import db

    uri, options = database_uri
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_LOGIN_LIMIT_IP="3 per minute", WTF_CSRF_ENABLED=False)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    statuses = [client.post("/auth/login", data={"email": f"u{n}@x.ir", "password": "wrong"},
                            headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                for n in range(5)]
    assert statuses[:3] != [429] * 3 and statuses[3:] == [429, 429]
