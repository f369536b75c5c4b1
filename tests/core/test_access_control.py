"""Deny by default: every endpoint states its permission; undeclared ones are refused."""

import ast
from pathlib import Path

from flask import Blueprint

from core.auth.permissions import declared_permission

ROOT = Path(__file__).resolve().parents[2]


def test_every_endpoint_declares_a_permission(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if declared_permission(view, method) is None:
                missing.append(f"{rule.endpoint} {method} {rule.rule}")
    assert not missing, "endpoints without a permission:\n" + "\n".join(missing)


def test_an_undeclared_endpoint_is_refused(app, client, make_user, login):
    bp = Blueprint("sneaky", __name__)

    @bp.route("/sneaky")
    def sneaky():
        return "secret"

    app.register_blueprint(bp)
    make_user()
    login()
    response = client.get("/sneaky")
    assert response.status_code == 403
    assert b"secret" not in response.data


def test_a_user_without_the_permission_gets_403_and_an_audit_entry(app, client, make_user, login):
    from sqlalchemy import select

    from core.audit import AuditLog
    from core.auth.models import Role
    from core.extensions import db

    with app.app_context():
        db.session.add(Role(name="nobody", permissions=[], scopes={}, default_scope="own"))
        db.session.commit()
    make_user(email="nobody@example.ir", role="nobody")
    login("nobody@example.ir")
    assert client.get("/").status_code == 403
    with app.app_context():
        denials = db.session.execute(
            select(AuditLog).where(AuditLog.action == "auth.denied")
        ).scalars().all()
    assert [(d.target, d.detail["permission"]) for d in denials] == [("/", "core.dashboard")]


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def test_modules_only_import_each_other_through_declared_services():
    from core.modules import discover

    installed = discover()
    offences = []
    for name, manifest in installed.items():
        allowed = set(manifest.depends) | set(manifest.uses)
        for path in (ROOT / "modules" / name).rglob("*.py"):
            for imported in _imports(path):
                parts = imported.split(".")
                if parts[0] != "modules" or len(parts) < 2 or parts[1] == name:
                    continue
                other = parts[1]
                if other not in allowed or (len(parts) > 2 and parts[2] != "services"):
                    offences.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not offences, "\n".join(offences)


def test_core_never_imports_a_module():
    offences = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in (ROOT / "core").rglob("*.py")
        for imported in _imports(path)
        if imported.startswith("modules.")
    ]
    assert not offences, "\n".join(offences)
