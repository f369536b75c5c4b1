"""The OpenAPI document is valid OpenAPI 3, per app; the docs page loads nothing from outside."""

import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from config import TestConfig
from core import create_app
from core.extensions import api
from tests.core.api.conftest import test_bp

STATIC = Path(__file__).resolve().parents[3] / "core" / "static"


def test_openapi_document_is_valid_with_bearer_scheme(api_app):
    response = api_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "pvd_…",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert spec["security"] == [{"bearerAuth": []}]
    assert {"/api/v1/me", "/api/v1/modules", "/api/v1/apitest/points"} <= set(spec["paths"])
    post = spec["paths"]["/api/v1/apitest/points"]["post"]
    headers = [p["name"] for p in post.get("parameters", []) if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    assert "requestBody" in post
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)


def test_each_app_keeps_its_own_spec(app, database_uri, tmp_path):
    """One module-level ``api`` serves many apps; blueprints register on fresh apps again."""
    uri, options = database_uri
    second = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                        CRM_UPLOAD_DIR=str(tmp_path / "u2"))
    api.register_blueprint(test_bp, app=second)
    third = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                       CRM_UPLOAD_DIR=str(tmp_path / "u3"))
    api.register_blueprint(test_bp, app=third)
    specs = {name: a.test_client().get("/api/v1/openapi.json").get_json()
             for name, a in (("first", app), ("second", second), ("third", third))}
    for spec in specs.values():
        validate(spec)
        assert "/api/v1/me" in spec["paths"]
    assert "/api/v1/apitest/points" not in specs["first"]["paths"]
    assert "/api/v1/apitest/points" in specs["second"]["paths"]
    assert specs["second"] == specs["third"]
    with second.app_context():
        assert api.spec is not None and api.spec.to_dict() == specs["second"]
    with app.app_context():
        assert api.spec.to_dict() == specs["first"]


def test_docs_page_is_served_locally(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in references
    assert "/static/vendor/swagger-ui/swagger-ui.css" in references
    assert "/static/js/api-docs.js" in references
    outside = [r for r in references if r.startswith(("http", "//"))
               and not r.startswith(("http://127.0.0.1", "http://localhost"))]
    assert outside == []
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html.replace(
        '<script id="crm-i18n" type="application/json">', "<x>")), "inline script found"
    init = (STATIC / "js" / "api-docs.js").read_text()
    assert "http" not in init and "validatorUrl: null" in init
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert (STATIC / "vendor" / "swagger-ui" / name).is_file()
        assert client.get(f"/static/vendor/swagger-ui/{name}").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_spec_and_docs_need_no_token(client, path):
    assert client.get(path).status_code == 200
